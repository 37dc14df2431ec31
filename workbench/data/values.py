"""Raw column values as the data kinds need them: text, numbers and label ids.

Files and hub datasets hold values of every type — strings, ints, bools, floats, lists,
``ClassLabel`` ids, missing cells. These helpers read one value as text (joining a hub
dataset's lists), as a finite number or as a label name, and turn a label or tag column
into integer ids with names, refusing an empty cell or a column that mixes types with
one line that names the column and the first bad row. What each kind does with the
values is :mod:`workbench.data.kinds`'; nothing here knows a kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from datasets import ClassLabel, Dataset

from ..errors import DataError

__all__ = [
    "Splits",
    "as_number",
    "as_text",
    "check_text",
    "format_number",
    "label_name",
    "missing",
    "row_name",
    "to_label_ids",
]

Splits = dict[str, Dataset]


def row_name(index: int, where: str) -> str:
    return f"row {index + 1} of {where}"


def check_text(splits: Splits, column: str, where: Mapping[str, str]) -> None:
    """A classifier's input is one string a row: not a list, not empty."""
    for split, ds in splits.items():
        for i, value in enumerate(ds["text"]):
            if isinstance(value, list | dict):
                raise DataError(f"column {column!r} holds a {type(value).__name__} in {row_name(i, where[split])}, "
                                "where text is expected; join it into one string first")  # fmt: skip
            if missing(value):
                raise DataError(f"column {column!r} is empty in {row_name(i, where[split])}; fill it in or drop "
                                "the row")  # fmt: skip


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())  # fmt: skip


def as_text(value: Any, joiner: str | None) -> str:
    # Hub datasets keep lists (several references, triple sets): join a source, take a target's first.
    if isinstance(value, list):
        if joiner is None:
            return str(value[0]) if value else ""
        return joiner.join(" | ".join(map(str, x)) if isinstance(x, list) else str(x) for x in value)
    return "" if value is None else str(value)


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_number(value: float) -> str:
    return f"{value:.6g}"


def label_name(value: Any) -> str:
    return format_number(value) if isinstance(value, float) else str(value)


def to_label_ids(splits: Splits, role: str, column: str, where: Mapping[str, str], names: list[str] | None,
                  *, nested: bool) -> tuple[Splits, list[str]]:  # fmt: skip
    """Labels (or tag lists) as integer ids with names: ClassLabel names, else the sorted distinct values."""
    feature = splits["train"].features[role]
    inner = getattr(feature, "feature", feature)  # the items of a list column (List / Sequence)
    if isinstance(inner, list):  # older datasets describe a list column as [feature]
        inner = inner[0]
    class_label = inner if isinstance(inner, ClassLabel) else None
    found: dict[type, tuple[str, int]] = {}  # python type -> first (split, row) holding it
    for split, ds in splits.items():
        for i, value in enumerate(ds[role]):
            for v in value if nested else [value]:
                if missing(v) or (class_label is not None and v < 0):
                    raise DataError(f"label column {column!r} is empty in {row_name(i, where[split])}; "
                                    "fill it in or drop the row")  # fmt: skip
                found.setdefault(_label_type(v), (split, i))
    if len(found) > 1:
        (t1, (s1, r1)), (t2, (s2, r2)) = list(found.items())[:2]
        raise DataError(f"label column {column!r} mixes {t1.__name__} and {t2.__name__} values "
                        f"({row_name(r1, where[s1])} vs {row_name(r2, where[s2])}); use one type for every "
                        "label")  # fmt: skip
    if class_label is not None and names is None:
        return splits, list(class_label.names)
    if class_label is not None:  # a trained run's names: map this dataset's ClassLabel onto them
        to_name = class_label.int2str
    else:
        to_name = label_name
    if names is None:
        distinct = {v for ds in splits.values() for value in ds[role] for v in (value if nested else [value])}
        ordered = sorted(distinct, key=lambda v: (isinstance(v, str), v))
        names = [label_name(v) for v in ordered]
        if nested and "O" in names:  # the outside tag first, as tagging datasets number it
            names.remove("O")
            names.insert(0, "O")
    index = {n: i for i, n in enumerate(names)}
    out = {}
    for split, ds in splits.items():
        ids = []
        for i, value in enumerate(ds[role]):
            row = []
            for v in value if nested else [value]:
                if to_name(v) not in index:
                    raise DataError(f"label {to_name(v)!r} in {row_name(i, where[split])} is not one of the run's "
                                    f"labels ({', '.join(names)})")  # fmt: skip
                row.append(index[to_name(v)])
            ids.append(row if nested else row[0])
        out[split] = ds.remove_columns(role).add_column(role, ids)
    return out, names


def _label_type(value: Any) -> type:
    # Words and numbers in one string column ("good", "bad", "1") are a mix too.
    if isinstance(value, str) and as_number(value) is not None:
        return float
    if isinstance(value, int) and not isinstance(value, bool):
        return int
    return type(value)
