"""The notebook's own data, by variable name: what the panel's dataset box offers besides names and files.

:func:`notebook_data` lists the variables of the running IPython kernel that hold a pandas DataFrame, a
``datasets`` Dataset or DatasetDict, or a list of dicts. :func:`data_name` turns what the dataset box holds
into a config's dataset name (a variable becomes ``memory:<variable>``, :mod:`workbench.data.held`), and
:func:`shown_name` the other way. Outside IPython there are no variables to offer. Nothing is loaded here.
"""

from __future__ import annotations

from typing import Any

from ..data.held import MEMORY_PREFIX, data_type, hold, is_held_name

__all__ = ["data_name", "notebook_data", "shown_name"]


def notebook_data() -> dict[str, str]:
    """``{variable: its type}`` for the kernel's DataFrames, Datasets, DatasetDicts and lists of dicts."""
    found = {}
    for name, value in _user_namespace().items():
        kind = None if name.startswith("_") else data_type(value)
        if kind:
            found[name] = kind
    return found


def data_name(text: str) -> str:
    """A config's dataset name for what the dataset box holds: a notebook variable's data is held in memory."""
    text = text.strip()
    if text.isidentifier() and text in notebook_data():
        return hold(_user_namespace()[text], label=text)
    return text


def shown_name(name: str) -> str:
    """What the dataset box shows for a config's dataset name: a held variable by its own name."""
    label = name.removeprefix(MEMORY_PREFIX)
    return label if is_held_name(name) and label in notebook_data() else name


def _user_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return {}
    shell = get_ipython()
    return dict(shell.user_ns) if shell is not None else {}
