"""Datasets: the built-in toy world and catalog, loading from hub or files, mixtures, and encoding.

Imports are lazy (PEP 562): listing the catalog imports neither ``datasets`` nor torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
