"""Data held in the notebook's memory as a data source: a DataFrame, a Dataset or DatasetDict, a list of dicts.

A config stays JSON. Assigning such an object to ``cfg.data.name`` (or a ``mix`` entry) holds it here under
a name ``memory:<label>``, and that name is what the config, ``run.json`` and "copy as code" carry:
``memory:df`` when the panel picked the notebook variable ``df``, ``memory:DataFrame-1a2b3c4d`` (type and
content fingerprint) when code assigned the object. :func:`describe` says what the object was (its type,
rows per split, columns and fingerprint, never the rows), which ``run.json`` keeps, so a run reloaded in
another process says what it was trained on; training there needs the object or a file again, and
:func:`held_splits` says so in one line. The table lives in this process and keeps the last
:data:`MAX_HELD` objects (:func:`forget` empties it). Reading a file is :mod:`.files`' job; checking and
standardizing the splits is :mod:`.sources`'; this module only turns objects into named ``Dataset`` splits.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DataError, one_line

__all__ = ["MAX_HELD", "MEMORY_PREFIX", "describe", "forget", "held_splits", "hold", "is_held_name"]

MEMORY_PREFIX = "memory:"
MAX_HELD = 32  # objects kept alive by this table; the oldest goes first
ACCEPTED = "a dataset name or file path, a pandas DataFrame, a datasets Dataset or DatasetDict, or a list of dicts"


@dataclass(frozen=True)
class _Held:
    data: Any
    description: dict[str, Any]
    shape: tuple[Any, ...]


_HELD: OrderedDict[str, _Held] = OrderedDict()
_LOCK = threading.RLock()  # the panel's loader and training threads read the table while a cell adds to it


def is_held_name(name: str) -> bool:
    """Whether ``name`` names data held in memory (in this process or the one that wrote the config)."""
    return name.startswith(MEMORY_PREFIX)


def hold(data: Any, label: str | None = None) -> str:
    """Keep ``data`` for loading by name; its ``memory:`` name (``label``: a notebook variable's name).

    The same object again, of the same shape, keeps its name without being read again (the panel asks at
    every change of a setting). Raises :class:`DataError` for an object of another type, or one with no
    rows or duplicate column names.
    """
    with _LOCK:
        for name, held in _HELD.items():
            if held.data is data and _shape(data) == held.shape and (label is None or name == MEMORY_PREFIX + label):
                _HELD.move_to_end(name)
                return name
    description = describe(data)  # outside the lock: tens of ms on a large frame
    kind = {"list of dicts": "list"}.get(description["type"], description["type"].split()[-1])
    name = MEMORY_PREFIX + (label or f"{kind}-{description['fingerprint'][:8]}")
    with _LOCK:
        _HELD.pop(name, None)
        _HELD[name] = _Held(data, description, _shape(data))
        while len(_HELD) > MAX_HELD:
            _HELD.popitem(last=False)
    return name


def forget(name: str | None = None) -> None:
    """Let go of one held object (by its ``memory:`` name), or of all of them."""
    with _LOCK:
        if name is None:
            _HELD.clear()
        else:
            _HELD.pop(name, None)


def held_description(name: str) -> dict[str, Any] | None:
    """What the object held under ``name`` is now (:func:`describe`: an object edited in place since it was
    named gets its new fingerprint), or None when this process holds none. Tens of ms for 50,000 rows."""
    with _LOCK:
        held = _HELD.get(name)
    if held is None:
        return None
    description = describe(held.data)  # checked again, too
    with _LOCK:
        if name in _HELD:  # not forgotten meanwhile
            _HELD[name] = _Held(held.data, description, _shape(held.data))
    return description


def held_splits(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The held object as ``datasets`` splits — ``train`` and, from a DatasetDict, ``validation``/``test`` —
    and what it is as it is read (:func:`held_description`)."""
    description = held_description(name)
    if description is None:
        raise DataError(f"dataset {name!r} was held in the memory of the Python process that made this config and "
                        f"is not in this one; give a file (CLI: --dataset PATH) or, in Python, the object again "
                        f"(cfg.data.name = df)")  # fmt: skip
    with _LOCK:
        held = _HELD.get(name)
    if held is None:
        raise DataError(f"dataset {name!r} was let go (workbench.data.held.forget) while it was being read; "
                        "give the object again")  # fmt: skip
    splits = _as_splits(held.data, description["type"], name.removeprefix(MEMORY_PREFIX))
    return splits, description


def describe(data: Any) -> dict[str, Any]:
    """Type, rows per split, columns and a content fingerprint of an accepted object (never its rows)."""
    kind = _type_name(data)
    if kind == "pandas DataFrame":
        _check_frame(data, "the DataFrame")
        rows, columns = {"train": len(data)}, [str(c) for c in data.columns]
    elif kind == "datasets DatasetDict":
        rows, columns = {s: len(ds) for s, ds in data.items()}, list(next(iter(data.values())).column_names)
    elif kind == "datasets Dataset":
        rows, columns = {"train": len(data)}, list(data.column_names)
    else:
        _check_records(data)
        rows, columns = {"train": len(data)}, list(dict.fromkeys(k for row in data for k in row))
    if not sum(rows.values()):
        raise DataError(f"the {kind} has no rows")
    return {"type": kind, "rows": rows, "columns": columns, "fingerprint": _fingerprint(data, kind)}


def data_type(data: Any) -> str | None:
    """The accepted type ``data`` is ("pandas DataFrame", …), or None (a notebook's other variables)."""
    try:
        kind = _type_name(data)
    except DataError:
        return None
    return kind if kind != "list of dicts" or (data and isinstance(data[0], Mapping)) else None


def _shape(data: Any) -> tuple[Any, ...]:
    # Rows and columns: enough to notice an object that was changed in place since it was described.
    if hasattr(data, "items") and not hasattr(data, "columns"):  # a DatasetDict
        return tuple((s, len(ds), tuple(ds.column_names)) for s, ds in data.items())
    columns = getattr(data, "columns", None)
    if columns is None:
        columns = getattr(data, "column_names", ())
    return len(data), tuple(map(str, columns))


def _type_name(data: Any) -> str:
    # By module and class name: checking the type imports neither pandas nor datasets.
    cls = type(data)
    module = cls.__module__.split(".")[0]
    if module == "pandas" and cls.__name__ == "DataFrame":
        return "pandas DataFrame"
    if module == "datasets" and cls.__name__ in ("Dataset", "DatasetDict"):
        return f"datasets {cls.__name__}"
    if isinstance(data, list):
        return "list of dicts"  # its memory: name reads list-<fingerprint>
    if module == "datasets" and cls.__name__.startswith("Iterable"):
        raise DataError(f"a streaming {cls.__name__} cannot be split or scored; load it without streaming=True")
    where = "" if cls.__module__ == "builtins" else f"{cls.__module__}."
    raise DataError(f"data must be {ACCEPTED}; got a {where}{cls.__name__}")


def _check_frame(frame: Any, what: str) -> None:
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise DataError(f"{what} has duplicate column names ({', '.join(duplicated)}); rename them")


def _check_records(rows: list[Any]) -> None:
    bad = next((i for i, row in enumerate(rows) if not isinstance(row, Mapping)), None)
    if bad is not None:
        raise DataError(f"data must be {ACCEPTED}; item {bad} of the list is a {type(rows[bad]).__name__}")


def _fingerprint(data: Any, kind: str) -> str:
    if kind == "datasets Dataset":
        return data._fingerprint  # datasets' own hash of the table and the transforms that made it
    if kind == "datasets DatasetDict":
        return hashlib.sha256("".join(f"{s}:{ds._fingerprint}" for s, ds in data.items()).encode()).hexdigest()
    if kind == "pandas DataFrame":
        text = data.to_json(orient="split", date_format="iso", default_handler=str)
    else:
        text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _as_splits(data: Any, kind: str, label: str) -> dict[str, Any]:
    """``data`` (of type ``kind``, already checked by :func:`describe`) as named ``Dataset`` splits."""
    from datasets import Dataset

    try:
        if kind == "datasets DatasetDict":
            return dict(data)
        if kind == "datasets Dataset":
            return {"train": data}
        if kind == "pandas DataFrame":
            return {"train": Dataset.from_pandas(data.rename(columns=str), preserve_index=False)}
        return {"train": Dataset.from_list(data)}
    except Exception as exc:  # pyarrow's many conversion errors: a column of mixed types, say
        raise DataError(f"could not read the {kind} {label!r}: {one_line(exc)}") from None
