"""One thread trains, for the whole process: a run trained from a notebook cell, the CLI or the panel alike.

libgomp, PyTorch's OpenMP runtime on Linux, gives every thread that runs OpenMP work a thread pool of its
own. A notebook invites training from the main thread (``run.train()`` in a cell) and then from the panel's
background thread: two pools on a machine's few cores, and the second run was measured up to 1.75x slower.
:func:`on_training_thread` hands the work to a worker of one small pool and waits for it; runs one after
another reuse the same worker (a pool reuses an idle thread), so they share one OpenMP pool. Runs at the same
time (two panels) get a worker each. While the main thread waits, the first Ctrl-C or SIGTERM becomes a stop
request (the run ends at a step boundary) and a second one interrupts the wait. Not a scheduler or a queue.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["on_training_thread", "stop_on_signals"]

T = TypeVar("T")
_PREFIX = "workbench-train"
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix=_PREFIX)


def on_training_thread(work: Callable[[], T], stop: threading.Event) -> T:
    """``work()`` on the process's training thread (at once when called there); its result or its exception."""
    if threading.current_thread().name.startswith(_PREFIX):
        return work()
    future = _POOL.submit(work)
    with stop_on_signals(stop):
        return future.result()


@contextmanager
def stop_on_signals(flag: threading.Event) -> Iterator[None]:
    """In the main thread, turn the first Ctrl-C / SIGTERM into ``flag.set()``; a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
