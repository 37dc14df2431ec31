"""Temporary changes to process-wide state that stay correct when calls overlap across threads.

Libraries keep switches that belong to the whole process — transformers', Optuna's and
the trackers' log levels, progress bars, ``datasets``' offline flag, huggingface_hub's
timeouts, torch's global random generator — and the workbench needs some changed for the
length of its own calls. A plain save-set-restore breaks when two such calls overlap in
two threads (a panel preview beside a training run): the second saves the first's value
and puts it back after the first restored the user's, so the switch stays changed for
the rest of the kernel. :func:`held` counts holders instead: the first saves the user's
value and sets the workbench's, later ones only count, the last one out restores. The
random generator is not a switch but a stream: :func:`seeded` draws from a seed and
leaves the user's state as it was; :class:`RandomStream` is a seeded stream a run keeps
for its own draws (dropout) across steps. Nothing here changes state for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["RandomStream", "held", "held_attribute", "held_logger_level", "held_verbosity", "seeded"]

_lock = threading.Lock()
_holders: dict[Hashable, tuple[int, Any]] = {}  # switch -> (holders now, the value to restore)


@contextmanager
def held(key: Hashable, get: Callable[[], Any], set_: Callable[[Any], None],
         change: Callable[[Any], Any]) -> Iterator[None]:  # fmt: skip
    """Inside the block the switch named ``key`` reads ``change(saved)``; the user's value comes back when
    the last overlapping block for ``key`` ends (in any thread). ``get``/``set_`` read and write it."""
    with _lock:
        count, saved = _holders.get(key, (0, None))
        if count == 0:
            saved = get()
            set_(change(saved))
        _holders[key] = (count + 1, saved)
    try:
        yield
    finally:
        with _lock:
            count, saved = _holders.pop(key)
            if count > 1:
                _holders[key] = (count - 1, saved)
            else:
                set_(saved)


def held_attribute(owner: Any, name: str, value: Any) -> Any:
    """``owner.name`` reads ``value`` inside the block (a module's flag or constant)."""
    return held(("attribute", id(owner), name), lambda: getattr(owner, name),
                lambda v: setattr(owner, name, v), lambda _: value)  # fmt: skip


def held_verbosity(library_logging: Any, level: int) -> Any:
    """A library's verbosity (``transformers.logging``, ``optuna.logging``) at least ``level`` inside the block;
    a quieter one the user chose stays."""
    return held(("verbosity", library_logging.__name__), library_logging.get_verbosity,
                library_logging.set_verbosity, lambda saved: max(saved, level))  # fmt: skip


def held_logger_level(name: str, level: int) -> Any:
    """The logger ``name`` passes records of at least ``level`` inside the block (its own setting comes back)."""
    logger = logging.getLogger(name)
    return held(("logger", name), lambda: logger.level, logger.setLevel,
                lambda _: max(logger.getEffectiveLevel(), level))  # fmt: skip


def _cuda_devices() -> list[int]:
    import torch

    # Only generators CUDA has already made: asking for more would initialise CUDA in a CPU-only session.
    return list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch draws from ``seed`` inside the block; the user's random state is as it was after it."""
    import torch  # here, not above: the switches serve modules that never load torch

    devices = _cuda_devices()
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        if devices:
            torch.cuda.manual_seed_all(seed)
        yield


class RandomStream:
    """A seeded random state of one's own: inside ``with stream:`` torch's global generator (and that of
    ``device`` when it is a CUDA device) draws from it, and the stream moves on; the user's comes back."""

    def __init__(self, seed: int, device: torch.device | str = "cpu") -> None:
        import torch

        self.device = torch.device(device)
        with self._forked():
            torch.random.default_generator.manual_seed(seed)
            if self.device.type == "cuda":
                with torch.cuda.device(self.device):
                    torch.cuda.manual_seed(seed)
            self.state = self._read()

    @contextmanager
    def _forked(self) -> Iterator[None]:
        import torch

        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            yield

    def _read(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        import torch

        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    def __enter__(self) -> None:
        import torch

        self._fork = self._forked()
        self._fork.__enter__()
        cpu, cuda = self.state
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state(cuda, self.device)

    def __exit__(self, *exc: object) -> None:
        self.state = self._read()
        self._fork.__exit__(*exc)
