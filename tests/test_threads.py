"""Sharing the CPU: fewer threads while another process is busy, the count back after, and starvation seen."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from workbench import threads
from workbench.history import StepEvent
from workbench.threads import STARVED, CpuWait


def _python(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    return done.stdout.strip()


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_the_governor_trains_on_the_cores_others_leave_and_puts_the_count_back(monkeypatch, two_threads):
    busy = [1]
    monkeypatch.setattr(threads, "_others", lambda: busy[0])
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with threads.ThreadGovernor(every_s=0) as governor:
        governor.cores = 2
        assert governor.active and governor.adjust() == 1 and governor.reduced() == 1
        busy[0] = 0  # the other process stopped
        assert governor.adjust() == 2 and governor.reduced() is None
        busy[0] = 5
        assert governor.adjust() == 1  # never below one thread
    assert torch.get_num_threads() == 2


def test_a_count_the_user_chose_is_left_alone(monkeypatch, two_threads):
    monkeypatch.setattr(threads, "_others", lambda: 1)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    governor = threads.ThreadGovernor(every_s=0)
    assert not governor.active and governor.adjust() == 2
    assert not threads.ThreadGovernor(enabled=False).active  # on an accelerator


def test_a_busy_process_is_counted(two_threads):
    busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    try:
        time.sleep(0.5)
        assert threads._others() >= 1
    finally:
        busy.kill()


class _Counts:
    """torch's thread count as the governor sees it (OpenMP keeps a count per thread; the run trains on its own)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def get_num_threads(self) -> int:
        return self.threads

    def set_num_threads(self, threads: int) -> None:
        self.threads = threads


def test_training_beside_a_busy_process_says_so_and_ends_with_the_count_it_found(make_config, monkeypatch):
    from workbench import Run

    counts = _Counts(2)
    monkeypatch.setattr(threads, "_torch", lambda: counts)
    monkeypatch.setattr(threads, "_others", lambda: 1)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: {0, 1})
    history = Run.create(make_config(train={"steps": 3})).train()
    assert [s.threads for s in history.steps] == [1, 1, 1]
    assert counts.threads == 2


def test_busy_threads_on_one_cpu_are_seen_waiting():
    # hashlib releases the GIL on large inputs: every thread is ready to run, on the one CPU the process may use.
    # Three threads wait about two thirds of the time; two would wait about half, on the starved line itself.
    script = """
import hashlib, os, threading, time
from workbench.threads import CpuWait
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
data, end = bytes(1 << 20), time.perf_counter() + 1.5
def work():
    while time.perf_counter() < end:
        hashlib.sha256(data).digest()
waited = CpuWait(every_s=0)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(waited.read())
"""
    assert float(_python(script)) >= STARVED


def test_an_idle_process_waits_for_nothing_and_a_step_says_when_it_was_starved():
    import time

    waited = CpuWait(every_s=0.1)
    time.sleep(0.2)
    share = waited.read()
    assert share is not None and share < STARVED
    step = StepEvent(step=1, loss=1.0, lr=0.1, tokens_per_s=10.0, elapsed_s=1.0)
    assert not step.starved and StepEvent(**{**step.__dict__, "cpu_wait": 0.9}).starved


def test_the_progress_line_says_when_training_is_starved():
    from workbench.ui.views import ProgressView

    view = ProgressView()
    view.step(StepEvent(step=3, loss=1.0, lr=0.1, tokens_per_s=10.0, elapsed_s=1.0, total_steps=9, cpu_wait=1.1))
    assert "starved of CPU: another process is busy" in view.line.value
    view.step(StepEvent(step=4, loss=1.0, lr=0.1, tokens_per_s=10.0, elapsed_s=1.2, total_steps=9, cpu_wait=0.01))
    assert "starved" not in view.line.value and "busy" not in view.line.value
    view.step(StepEvent(step=5, loss=1.0, lr=0.1, tokens_per_s=10.0, elapsed_s=1.4, total_steps=9, threads=1))
    assert "another process is busy: training on 1 thread(s)" in view.line.value
