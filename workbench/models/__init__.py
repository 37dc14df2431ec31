"""Base models: the built-in tiny models, curated hub ids, family quirks and loading."""

from .builtin import builtin_path, cache_home, word_tokenizer
from .loading import LoadedModel, load_model, resolve_model_path
from .registry import (
    BUILTIN_MODELS,
    CURATED_MODELS,
    TASK_KINDS,
    BuiltinModel,
    FamilyQuirks,
    TaskKind,
    architecture_of,
    quirks_for,
    resolve_task,
)

__all__ = [
    "BUILTIN_MODELS",
    "CURATED_MODELS",
    "TASK_KINDS",
    "BuiltinModel",
    "FamilyQuirks",
    "LoadedModel",
    "TaskKind",
    "architecture_of",
    "builtin_path",
    "cache_home",
    "load_model",
    "quirks_for",
    "resolve_model_path",
    "resolve_task",
    "word_tokenizer",
]
