"""How a dataset's rows are split and capped: held-out shares carved from train, by record where sources repeat.

A file with only a training part gets its test share (``test_fraction``) and then its
validation share (``validation_fraction``) carved off, seeded. Where a kind's sources
repeat — E2E's meaning representations, each with ~8.5 references — the cut runs
between records, never through one, so that no record is trained on and scored; the
held-out rows are kept record by record and capped at whole records
(``max_eval_examples``), and ``max_train_records`` counts records instead of rows.
Finding and standardizing the data is :mod:`workbench.data.sources`'; nothing here reads
a file.
"""

from __future__ import annotations

import functools
import itertools
import random
from typing import Any

from datasets import Dataset

from ..config import DataChoice
from ..errors import DataError
from .task_data import TaskData

__all__ = ["limit", "records_note", "repeats", "split_off"]


def split_off(splits: dict[str, Dataset], choice: DataChoice, seed: int,
              group: str | None) -> tuple[Dataset, Dataset, Dataset | None]:  # fmt: skip
    """Carve the missing test split (``test_fraction``), then the missing validation split, from train.

    With a ``group`` role (a source with several references) the cut runs between records, never through one:
    train rows come shuffled (a row cap takes a sample of rows), held-out rows record by record."""
    train = splits["train"]
    test, val = splits.get("test"), splits.get("validation")
    carve = _carve if group is None else functools.partial(_carve_records, group=group)
    if test is None and choice.test_fraction > 0:
        train, test = carve(train, choice.test_fraction, seed, choice.name, "test")
    if val is None:
        train, val = carve(train, choice.validation_fraction, seed, choice.name, "validation")
    if group is not None and (val is not splits.get("validation") or test is not splits.get("test")):
        # Carving kept the file's order; shuffle train so that a row cap takes a sample, not the first records.
        train = train.shuffle(seed=seed)
        val, test = _by_record(val, group), test if test is None else _by_record(test, group)
    return train, val, test


def limit(data: TaskData, choice: DataChoice, group: str | None) -> None:
    """Cap ``data``'s training rows (or records) and its validation rows (whole records where ``group``)."""
    if choice.max_train_examples is not None:
        if choice.max_train_examples < 1:
            raise DataError(f"max_train_examples is {choice.max_train_examples}; it must be at least 1")
        data.train = data.train.select(range(min(choice.max_train_examples, len(data.train))))
    if choice.max_train_records is not None:
        if group is None:
            raise DataError(f"max_train_records needs a dataset whose sources repeat (records with several "
                            f"references); {choice.name!r} has one row per source: use max_train_examples")  # fmt: skip
        data.train = data.train.select(_first_records(list(data.train[group]), choice.max_train_records))
    if group is None:
        data.validation = data.validation.select(range(min(choice.max_eval_examples, len(data.validation))))
    else:  # whole records only, so that no record is scored against a part of its references
        keys = list(data.validation[group])
        whole = _first_records(keys, len(set(keys)), max_rows=choice.max_eval_examples)
        data.validation = data.validation.select(whole)
    if len(data.train) == 0:
        raise DataError(f"dataset {choice.name!r} has no training examples")
    if len(data.validation) == 0:
        raise DataError(f"dataset {choice.name!r} has no validation examples; raise validation_fraction")


def repeats(ds: Dataset, role: str | None) -> bool:
    """Whether some value of ``role`` (a kind's group role: E2E's source) comes back in another row."""
    if role is None:
        return False
    keys = list(ds[role])
    return len(set(keys)) < len(keys)


def records_note(data: TaskData, group: str) -> str:
    """The note a run prints on data split by record: records and rows in each split."""

    def count(ds: Dataset | None) -> str:
        return f"{len(set(ds[group]))} records / {len(ds)} rows" if ds is not None else ""

    parts = [f"{name} {count(ds)}" for name, ds in (("train", data.train), ("validation", data.validation),
                                                     ("test", data.test)) if ds is not None]  # fmt: skip
    return (
        f"{group}s repeat (several references per record): split by record, none in two splits "
        f"({', '.join(parts)}); each record is scored once against all its references"
    )


def _carve(ds: Dataset, fraction: float, seed: int, name: str, what: str) -> tuple[Dataset, Dataset]:
    if len(ds) < 2:
        raise DataError(f"dataset {name!r} has {len(ds)} row(s) left; need at least 2 to split off {what}")
    parts = ds.train_test_split(test_size=fraction, seed=seed)
    return parts["train"], parts["test"]


def _carve_records(ds: Dataset, fraction: float, seed: int, name: str, what: str, *,
                   group: str) -> tuple[Dataset, Dataset]:  # fmt: skip
    """``fraction`` of the distinct ``group`` values (at least one, never all) with all their rows."""
    keys = list(ds[group])
    records = sorted(set(keys))  # a fixed order before the seeded shuffle
    if len(records) < 2:
        raise DataError(f"dataset {name!r} has {len(records)} distinct {group}(s) left; need at least 2 to split off "
                        f"{what} by record")  # fmt: skip
    random.Random(seed).shuffle(records)
    held = set(records[: min(max(1, round(fraction * len(records))), len(records) - 1)])
    return (ds.select([i for i, k in enumerate(keys) if k not in held]),
            ds.select([i for i, k in enumerate(keys) if k in held]))  # fmt: skip


def _by_record(ds: Dataset, group: str) -> Dataset:
    """The rows of each record together, records in the order they first appear (a row cap then cuts between)."""
    first: dict[Any, int] = {}
    keys = list(ds[group])
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    return ds.select(sorted(range(len(keys)), key=lambda i: (first[keys[i]], i)))


def _first_records(keys: list[Any], n: int, *, max_rows: int | None = None) -> list[int]:
    """Indices of the rows of the first ``n`` distinct keys, in file order; with ``max_rows``, only the whole records
    that fit in it (but at least the first)."""
    if n < 1:
        raise DataError(f"max_train_records is {n}; it must be at least 1")
    by_record: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        by_record.setdefault(key, []).append(i)
    rows: list[int] = []
    for mine in itertools.islice(by_record.values(), n):
        if max_rows is not None and rows and len(rows) + len(mine) > max_rows:
            break
        rows += mine
    return sorted(rows)
