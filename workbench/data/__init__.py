"""Datasets: the built-in toy world and catalog, loading from hub or files, mixtures, and encoding.

Imports are lazy (PEP 562): listing the catalog imports neither ``datasets`` nor torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BUILTIN_DATASETS": ".catalog",
    "CURATED_DATASETS": ".catalog",
    "IGNORE": ".encode",
    "ROLES": ".sources",
    "Collator": ".encode",
    "EncodedSplit": ".encode",
    "TaskData": ".task_data",
    "encode_split": ".encode",
    "encode_splits": ".encode",
    "format_prompt": ".encode",
    "load_task_data": ".sources",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
