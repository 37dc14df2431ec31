"""The workbench's JSON files: one encoding of numbers that JSON cannot hold, written and read the same way.

JSON has no NaN or infinity. Every file the workbench writes (``run.json`` and its history, ``sweep.json``,
``eval-*.json``, ``analysis.json``, ``compare.json``) stores them as the strings ``"nan"``, ``"inf"`` and
``"-inf"`` — strict JSON any tool reads, and still saying what the number was. A reader passes what holds
numbers (a history's events, metrics, a sweep's trial values) through :func:`from_json`, which turns those
strings back into floats; text (settings, labels, samples) is left as it was read, so a label that is the
word "nan" stays a word. numpy values are written as plain numbers and lists. Where files go and how they
are written whole is :mod:`.rundir`'s business; :func:`read_object` is how every one of them is read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import one_line

__all__ = ["dumps", "from_json", "read_object", "to_json"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_json(value: Any) -> Any:
    """``value`` with its non-finite floats as strings and numpy values as Python ones, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_json(value.tolist())
    return value


def from_json(value: Any) -> Any:
    """The inverse of :func:`to_json`: ``"nan"``, ``"inf"``, ``"-inf"`` become floats again."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON text for ``value`` (``json.dumps`` options such as ``indent`` pass through)."""
    return json.dumps(to_json(value), allow_nan=False, **options)


def read_object(path: str | Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The JSON object in file ``path`` (its ``"nan"`` strings as written: see :func:`from_json`).

    A file that is missing, unreadable, not JSON or not an object raises ``error`` in one line that begins with
    ``what``, the way a person knows the file (``"run.json in 'runs/x'"``).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{what} is not valid JSON: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise error(f"{what} must be a JSON object ({{...}}), not a JSON {type(data).__name__}")
    return data
