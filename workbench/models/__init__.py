"""Base models: the built-in tiny models, curated hub ids, family quirks and loading."""

from .builtin import builtin_path, cache_home, word_tokenizer
from .loading import LoadedModel, load_model, resolve_model_path
from .registry import BUILTIN_MODELS, CURATED_MODELS, BuiltinModel, FamilyQuirks, architecture_of, quirks_for
from .sharing import base_lock, base_of, running

__all__ = [
    "BUILTIN_MODELS",
    "CURATED_MODELS",
    "BuiltinModel",
    "FamilyQuirks",
    "LoadedModel",
    "architecture_of",
    "base_lock",
    "base_of",
    "builtin_path",
    "cache_home",
    "load_model",
    "quirks_for",
    "resolve_model_path",
    "running",
    "word_tokenizer",
]
