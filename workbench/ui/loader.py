"""Work off the notebook's main thread: the settings' datasets and frozen bases, loaded and kept.

:class:`Loader` runs the panel's loading step for the latest settings in one background
thread — a burst of changes loads once, and settings changed during a load are loaded next —
or in the calling cell in foreground mode (Colab shows no widget update made from a thread);
:meth:`Loader.settled` waits for it. :meth:`Loader.data` and :meth:`Loader.base` keep datasets
and frozen base models by what they depend on, under one lock, for the settings preview and for
new runs alike (the panel's runs share one base). :func:`start_work` is how every section of the
panel (training, analysis, sweeps) runs its work: in a thread, or in the cell. It shows nothing and
trains nothing.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..data.held import held_description

if TYPE_CHECKING:  # torch, transformers and peft load in the background
    from ..config import RunConfig
    from ..data import TaskData
    from ..models import LoadedModel

__all__ = ["Loader", "import_training_stack", "start_work"]

_IMPORTING = threading.Lock()
# The panel keeps the latest bases and datasets it loaded for the settings preview and new runs; Loader.clear()
# empties both.
MAX_BASES, MAX_DATA = 3, 8


def import_training_stack() -> None:
    """Import torch, transformers, peft and accelerate (through :mod:`workbench.run`) one thread at a time:
    two threads importing them for the first time can meet a partly initialised module."""
    with _IMPORTING:
        from .. import run  # noqa: F401


def start_work(work: Callable[[], None], *, name: str, foreground: bool, wait: bool = False) -> threading.Thread | None:
    """Run ``work`` in the calling cell (``foreground``: Colab shows no widget update made from a thread), or in
    a daemon thread called ``name``, which is returned (joined first with ``wait``)."""
    if foreground:
        work()
        return None
    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    if wait:
        thread.join()
    return thread


class Loader:
    """Runs ``load()`` (which reads the current settings itself) when :meth:`request` asks, and caches."""

    def __init__(self, load: Callable[[], None], *, foreground: bool = False) -> None:
        self._load, self.foreground = load, foreground
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        # Filled from the main thread (settings) and the training thread (a new run): one lock for both.
        self._cache_lock = threading.Lock()
        # The latest few, most recent last: a run keeps its own base and data, so dropping one here frees
        # only what no run uses.
        self._bases: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._datas: OrderedDict[tuple, TaskData] = OrderedDict()

    def request(self) -> None:
        """Load for the current settings: now (foreground), or in the background thread."""
        if self.foreground:
            self._load()
            return
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._load_while_wanted, name="workbench-load", daemon=True)
                self._thread.start()

    def settled(self, timeout: float | None = None) -> bool:
        """Block until no load is pending (False if ``timeout`` passed first)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                return False

    def _load_while_wanted(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            self._load()

    def data(self, config: RunConfig) -> TaskData:
        """``config.data`` loaded with the run's seed (kept by every data setting: a mixture, a limit or a
        column changed reads again)."""
        d = config.data
        held = held_description(d.name) or {}  # data in memory, described now: content edited in place reloads
        key = (json.dumps(dataclasses.asdict(d), sort_keys=True), held.get("fingerprint"), config.train.seed)
        with self._cache_lock:
            if key not in self._datas:
                from ..data import load_task_data

                self._datas[key] = load_task_data(config.data, seed=config.train.seed)
            return _latest(self._datas, key, MAX_DATA)

    def base(self, config: RunConfig, data: TaskData) -> LoadedModel:
        """``config.model`` loaded for ``data``'s kind and labels (one frozen base per combination)."""
        key = (config.model.name, data.kind, tuple(data.label_names or ()))
        with self._cache_lock:
            if key not in self._bases:
                from ..models import load_model

                self._bases[key] = load_model(config.model, data.kind, label_names=data.label_names)
            return _latest(self._bases, key, MAX_BASES)

    def clear(self) -> None:
        """Forget every cached base model and dataset (runs keep their own); the next settings change reloads."""
        with self._cache_lock:
            self._bases.clear()
            self._datas.clear()


def _latest(cache: OrderedDict, key: tuple, keep: int) -> Any:
    """``cache[key]``, now the most recent; the oldest beyond ``keep`` are dropped."""
    cache.move_to_end(key)
    while len(cache) > keep:
        cache.popitem(last=False)
    return cache[key]
