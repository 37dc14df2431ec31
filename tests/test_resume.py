"""Stop, interrupt and resume: the run ends at a step boundary and continues where it was."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from workbench import Run
from workbench.errors import ExportError
from workbench.history import StepEvent


def test_resume_after_a_kill_continues_the_same_curve(make_config, tmp_path):
    cfg = make_config(prefix={"projection": True, "hidden_size": 16}, train={"steps": 12, "checkpoint_every": 6})
    straight = Run.create(cfg).train().losses()

    stop = threading.Event()
    crashed = Run.create(cfg)
    crashed.train([lambda e: stop.set() if isinstance(e, StepEvent) and e.step == 8 else None],
                  stop=stop, checkpoint_to=tmp_path / "run")  # fmt: skip
    # The process "dies" here: only the checkpoint written at step 6 survives.
    assert json.loads((tmp_path / "run" / "run.json").read_text())["steps_done"] == 6

    resumed = Run.resume(tmp_path / "run")
    assert resumed.history.last_step == 6
    history = resumed.train()
    assert [s.step for s in history.steps] == list(range(1, 13))
    assert history.losses() == pytest.approx(straight, abs=1e-6)  # projection MLP and optimizer restored too


def test_resume_can_extend_the_step_budget(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 5}))
    run.train()
    run.export(tmp_path / "r", checkpoint=True)
    more = Run.resume(tmp_path / "r", steps=9)
    assert more.train().last_step == 9


def test_resume_needs_a_checkpoint(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 3}))
    run.train()
    run.export(tmp_path / "plain")
    with pytest.raises(ExportError, match="no complete checkpoint"):
        Run.resume(tmp_path / "plain")


def test_checkpoint_loading_never_unpickles_code(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 3}))
    run.train()
    path = run.export(tmp_path / "r", checkpoint=True)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"optimizer": Evil()}, path / "checkpoint" / "optimizer.pt")
    with pytest.raises(ExportError, match="unreadable"):
        Run.resume(path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_signal_stops_at_a_step_boundary_and_writes_the_run(tmp_path, sig):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "workbench.cli", "train", "--out", str(out), "--steps", "100000", "--lr", "0.1",
           "--eval-every", "0", "--max-train-examples", "64", "--checkpoint-every", "5"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "run.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (out / "run.json").exists(), proc.communicate(timeout=5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "stopped after" in stdout
    info = json.loads((out / "run.json").read_text())
    assert info["history"]["ends"][-1]["reason"] == "stopped"
    assert info["steps_done"] == info["history"]["ends"][-1]["step"] > 0
    assert Run.load(out).generate(["name[Aromi]"], max_new_tokens=3)
