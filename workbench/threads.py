"""How training shares the CPU with other processes: fewer threads while another process is busy.

PyTorch runs a CPU operator on one OpenMP thread per core, and a thread that has done its
part spins until the others are done too — the fastest way on an idle machine. When a
process in another session keeps a core busy (a second notebook kernel, a job started
elsewhere, a background task on Colab's two vCPUs), Linux shares the cores between the
sessions first, the workbench gets about one core's worth, and its threads spend it
spinning for each other: a MiniLM-L6 run measured 11–14x slower than alone
(``bench/busy_cpu.py``). Making waiting threads sleep (``OMP_WAIT_POLICY=PASSIVE``) fixes
that but costs ~15% alone, and OpenMP reads it only at start. So :class:`ThreadGovernor`
watches instead: about once a second it counts the processes ready to run that are not
the workbench's own threads (``/proc/stat``), and trains on the cores left free — one
thread while another process is busy, the full count again once it stops. A count the
user chose (``OMP_NUM_THREADS``) is left alone. :class:`CpuWait` measures how much of the
time the process's threads waited for a CPU, so a progress line can say when training is
starved. Linux only; elsewhere both do nothing. Nothing here trains.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

__all__ = ["STARVED", "CpuWait", "ThreadGovernor"]

STARVED = 0.5  # threads waiting for a CPU this share of the time (summed over threads): another process is busy
_USER_SET = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


class ThreadGovernor:
    """Sets torch's intra-op threads to the cores other processes leave free, between 1 and the count at the start
    (``full``), while its ``with`` block runs; the block's end puts ``full`` back. ``active`` is False when not
    ``enabled`` (training on an accelerator), where the user set a count, or where the system does not say what
    runs."""

    def __init__(self, *, enabled: bool = True, every_s: float = 1.0) -> None:
        self._torch = _torch()
        self.full, self.every_s = self._torch.get_num_threads(), every_s
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.active = (enabled and self.full > 1 and not any(name in os.environ for name in _USER_SET)
                       and _others() is not None)  # fmt: skip
        self._next = 0.0

    def __enter__(self) -> ThreadGovernor:
        return self

    def __exit__(self, *_: object) -> None:
        self.restore()

    def adjust(self) -> int:
        """Look again if a second has passed; the threads in use."""
        now = time.perf_counter()
        if self.active and now >= self._next:
            self._next = now + self.every_s
            others = _others()
            if others is not None:
                want = max(1, min(self.full, self.cores - others))
                if want != self._torch.get_num_threads():
                    self._torch.set_num_threads(want)
        return self._torch.get_num_threads()

    def reduced(self) -> int | None:
        """The threads in use when fewer than ``full``, else None."""
        threads = self._torch.get_num_threads()
        return threads if self.active and threads < self.full else None

    def restore(self) -> None:
        if self.active and self._torch.get_num_threads() != self.full:
            self._torch.set_num_threads(self.full)


class CpuWait:
    """The share of wall-clock time this process's threads spent ready to run but not running, over the last
    ``every_s`` seconds or more (summed over threads: 1.0 is one thread's worth of waiting). :meth:`read` measures
    again once that much time has passed, and gives the latest measure; None where the system does not say."""

    def __init__(self, *, every_s: float = 0.5) -> None:
        self.every_s, self.share = every_s, None
        self._last = (time.perf_counter(), _waited())

    def read(self) -> float | None:
        now = time.perf_counter()
        then, before = self._last
        if now - then >= self.every_s:  # a step of a few ms reads no files
            waited = _waited()
            self._last = (now, waited)
            self.share = max(waited - before, 0.0) / (now - then) if waited is not None and before is not None else None
        return self.share


def _torch() -> Any:
    import torch  # here, not at import: the history's events import this module, and listings import no torch

    return torch


def _others(samples: int = 3) -> int | None:
    """How many threads of other processes are ready to run: the system's runnable count less this process's
    runnable threads, the least of a few readings 2 ms apart (a process that runs for an instant is not busy)."""
    seen = []
    for i in range(samples):
        if i:
            time.sleep(0.002)
        total, own = _runnable(), _own_runnable()
        if total is None or own is None:
            return None
        seen.append(max(total - own, 0))
    return min(seen)


def _runnable() -> int | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("procs_running "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _own_runnable() -> int | None:
    count, read = 0, False
    for task in _tasks():
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]  # after the name, which may hold ")"
        except (OSError, IndexError):
            continue  # the thread ended between the listing and the read
        count, read = count + (state == "R"), True
    return count if read else None


def _waited() -> float | None:
    """Seconds this process's threads have waited on a run queue (schedstat's second field, in nanoseconds)."""
    total, read = 0, False
    for task in _tasks():
        try:
            total += int((task / "schedstat").read_text().split()[1])
            read = True
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9 if read else None


def _tasks() -> list[Path]:
    try:
        return list(Path("/proc/self/task").iterdir())
    except OSError:
        return []
