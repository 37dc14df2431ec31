"""Optuna, imported on first use: a one-line error where it is missing, and its INFO chatter turned down.

Not public API; :mod:`.study` and :mod:`.figures` share it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..process_state import held_verbosity


def require_optuna() -> Any:
    """The ``optuna`` module, or a :class:`ConfigError` that says how to install it."""
    try:
        import optuna
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("optuna is not installed; pip install 'prefix-workbench[sweep]'") from None
    return optuna


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """No per-trial INFO lines from Optuna inside the block (front ends print their own); warnings still show."""
    with held_verbosity(require_optuna().logging, logging.WARNING):
        yield
