"""Materialize the tiny built-in models as ordinary Hugging Face model directories.

A built-in (``tiny-gpt2``, ``tiny-t5``, …) is a random-init model built from a config
in :mod:`.registry` with a fixed seed, plus a word-level tokenizer trained with the
``tokenizers`` library on the toy world's vocabulary. Both are saved once into a
cache directory (``$PREFIX_WORKBENCH_HOME`` or ``~/.cache/prefix-workbench``) with
``save_pretrained``, so built-ins and hub models share one ``from_pretrained`` path
and an exported adapter's ``base_model_name_or_path`` points at a loadable folder.
This module does not decide heads or load models for training (:mod:`.loading`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import transformers
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import AutoConfig, PreTrainedTokenizerFast

from ..data.toy import vocabulary_texts
from ..errors import ModelLoadError
from ..process_state import seeded
from ..quiet import quiet
from .registry import BUILTIN_MODELS, architecture_of, quirks_for
from .sharing import LOADING

__all__ = ["SPECIAL_TOKENS", "builtin_path", "cache_home", "word_tokenizer"]

# Bumped whenever a built-in's weights or tokenizer would change, so old caches are not reused.
_BUILTIN_VERSION = "v1"
_SEED = 1234
# The class a built-in is saved as; an objective loads it with its own head (a new head for encoders).
_SAVED_AS = {"decoder": "AutoModelForCausalLM", "seq2seq": "AutoModelForSeq2SeqLM", "encoder": "AutoModelForMaskedLM"}
SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "bos": "<s>", "eos": "</s>", "mask": "<mask>"}


def cache_home() -> Path:
    """Where built-in models are materialized."""
    root = os.environ.get("PREFIX_WORKBENCH_HOME") or Path.home() / ".cache" / "prefix-workbench"
    return Path(root)


def word_tokenizer(template: str = "plain", texts: list[str] | None = None) -> PreTrainedTokenizerFast:
    """A word-level fast tokenizer over the toy world (or ``texts``), deterministic.

    ``template`` says which special tokens wrap an encoded text: ``plain`` none,
    ``eos`` a trailing ``</s>`` (seq2seq), ``cls`` ``<s> … </s>`` (encoders).
    """
    specials = list(SPECIAL_TOKENS.values())
    tok = Tokenizer(models.WordLevel(unk_token=SPECIAL_TOKENS["unk"]))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1, show_progress=False)
    tok.train_from_iterator(sorted(set(texts if texts is not None else vocabulary_texts())), trainer=trainer)
    bos, eos = SPECIAL_TOKENS["bos"], SPECIAL_TOKENS["eos"]
    ids = {t: tok.token_to_id(t) for t in (bos, eos)}
    if template == "eos":
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {eos}", pair=f"$A {eos} $B {eos}", special_tokens=[(eos, ids[eos])]
        )
    elif template == "cls":
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} $B {eos}",
            special_tokens=[(bos, ids[bos]), (eos, ids[eos])],
        )  # fmt: skip
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=SPECIAL_TOKENS["pad"],
        unk_token=SPECIAL_TOKENS["unk"],
        bos_token=bos,
        eos_token=eos,
        mask_token=SPECIAL_TOKENS["mask"],
        cls_token=bos,
        sep_token=eos,
        model_max_length=512,
    )


def builtin_path(name: str) -> Path:
    """The directory of built-in ``name``, building it on first use (a second or two)."""
    spec = BUILTIN_MODELS[name]
    if spec.shipped:
        shipped = Path(__file__).resolve().parent.parent / spec.shipped
        if not (shipped / "config.json").is_file():
            raise ModelLoadError(f"built-in {name!r} is missing from {shipped}; reinstall prefix-workbench")
        return shipped
    target = cache_home() / "models" / f"{name}-{_BUILTIN_VERSION}"
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build in a temporary sibling and rename, so an interrupted build leaves nothing half-written.
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        with LOADING:  # one model build at a time (see models.sharing)
            _build(name, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first; theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _build(name: str, out: Path) -> None:
    spec = BUILTIN_MODELS[name]
    tokenizer = word_tokenizer(quirks_for(spec.model_type).template)
    ids = {
        "vocab_size": len(tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    config = AutoConfig.for_model(spec.model_type, **spec.config, **ids)
    if config.is_encoder_decoder:
        # T5 starts decoding from <pad>, BART from </s>; we use </s> for both, as both accept it.
        config.decoder_start_token_id = tokenizer.eos_token_id
        if hasattr(config, "forced_eos_token_id"):
            config.forced_eos_token_id = None
    arch = architecture_of(config)
    auto_class = getattr(transformers, _SAVED_AS[arch])
    with seeded(_SEED):
        model = auto_class.from_config(config)
    if arch != "encoder":
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    with quiet():  # no "Writing model shards" bar for a 100 kB model
        model.save_pretrained(out)
    tokenizer.save_pretrained(out)
