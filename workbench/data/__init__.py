"""Datasets: the built-in toy world, loading from hub or files, and encoding for a task."""

from .encode import IGNORE, Collator, EncodedSplit, encode_split, encode_splits, format_prompt
from .sources import BUILTIN_DATASETS, CURATED_DATASETS, ROLES, TaskData, load_task_data

__all__ = [
    "BUILTIN_DATASETS",
    "CURATED_DATASETS",
    "IGNORE",
    "ROLES",
    "Collator",
    "EncodedSplit",
    "TaskData",
    "encode_split",
    "encode_splits",
    "format_prompt",
    "load_task_data",
]
