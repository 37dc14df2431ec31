"""Lazy package exports (PEP 562): a name is imported from its submodule when first used.

Packages whose listing must stay light (the CLI's ``models`` and ``datasets``, a notebook's
first cell) map each public name to the submodule that defines it; importing the package
imports none of them. Not public API.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], submodules: tuple[str, ...] = ()) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` (a relative module) on use;
    ``submodules`` are reachable as attributes (``wb.plots``)."""
    module_globals = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f".{name}", package)
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        module_globals[name] = value  # imported once
        return value

    return __getattr__
