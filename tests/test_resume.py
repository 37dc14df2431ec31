"""Stop, interrupt and resume: the run ends at a step boundary and continues where it was."""

import copy
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
    cfg = make_config(prefix={"projection": True, "hidden_size": 16, "dropout": 0.3},
                      train={"steps": 12, "checkpoint_every": 6})  # fmt: skip
    straight = Run.create(cfg).train().losses()

    stop = threading.Event()
    crashed = Run.create(cfg)
    crashed.train([lambda e: stop.set() if isinstance(e, StepEvent) and e.step == 8 else None],
                  stop=stop, checkpoint_to=tmp_path / "run")  # fmt: skip
    # The process "dies" here: only the checkpoint written at step 6 survives.
    assert json.loads((tmp_path / "run" / "run.json").read_text())["steps_done"] == 6
    assert "prefix dropout 0.3 while training" in (tmp_path / "run" / "README.md").read_text()

    resumed = Run.resume(tmp_path / "run")
    assert resumed.history.last_step == 6
    history = resumed.train()
    assert [s.step for s in history.steps] == list(range(1, 13))
    assert history.losses() == pytest.approx(straight, abs=1e-6)  # MLP, optimizer and dropout stream restored too


def test_resume_can_extend_the_step_budget(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 5}))
    run.train()
    run.export(tmp_path / "r", checkpoint=True)
    at_5 = [p.detach().clone() for p in run.trainer.params]
    state_5 = copy.deepcopy(run.trainer.optimizer.state_dict()["state"])
    run.train(steps=9)  # the same continuation, without a restart
    more = Run.resume(tmp_path / "r", steps=9)
    # The checkpoint's prefix and optimizer state are the ones training left, not a fresh start's.
    assert all(torch.equal(a, b) for a, b in zip(at_5, more.trainer.params))
    state = more.trainer.optimizer.state_dict()["state"]
    assert state.keys() == state_5.keys()
    assert all(torch.equal(state[k]["exp_avg"], state_5[k]["exp_avg"]) and state[k]["step"] == 5 for k in state)
    assert more.train().last_step == 9
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(run.trainer.params, more.trainer.params))


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


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
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


def test_cli_resume_continues_says_where_and_refuses_what_would_train_nothing(tmp_path, capsys):
    from workbench.cli import main

    run_dir, other = tmp_path / "run", tmp_path / "other"
    small = ["--max-train-examples", "32", "--eval-every", "0", "--prefix-length", "3"]
    assert main(["train", *small, "--steps", "6", "--checkpoint-every", "3", "--out", str(run_dir)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir)]) == 2
    assert "is at step 6; a total of 6 steps would train nothing" in capsys.readouterr().err
    assert main(["train", "--resume", str(run_dir), "--steps", "4"]) == 2
    assert "is at step 6; a total of 4 steps" in capsys.readouterr().err
    other.mkdir()
    assert main(["train", "--resume", str(run_dir), "--steps", "9", "--out", str(other)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["train", "--resume", str(run_dir), "--steps", "9"]) == 0
    assert "resuming at step 6 of 9" in capsys.readouterr().out
    info = json.loads((run_dir / "run.json").read_text())
    assert info["steps_done"] == 9 and [s["step"] for s in info["history"]["steps"]] == list(range(1, 10))


def test_cli_exits_3_on_a_non_finite_loss_and_the_run_reopens(tmp_path, monkeypatch, capsys):
    from workbench import plots
    from workbench.cli import main
    from workbench.train import Trainer

    log = Trainer._log

    def diverge(self, clock, start):
        event = log(self, clock, start)
        if event.step >= 3:
            event.loss = float("nan")
        return event

    monkeypatch.setattr(Trainer, "_log", diverge)
    out = tmp_path / "diverged"
    assert main(["train", "--max-train-examples", "32", "--steps", "10", "--out", str(out)]) == 3
    assert "loss became nan at step 3" in capsys.readouterr().out
    run = Run.load(out)
    assert run.history.ends[-1].reason == "non-finite" and run.history.last_step == 3
    raw = plots.loss_figure(run.history).data[0].y
    assert len(raw) == 3 and raw[-1] != raw[-1] and raw[0] == raw[0]  # the NaN step stays NaN (a gap), the rest float


def _out_of_memory_at(run, step):
    """Make the forward pass of step ``step`` run out of memory (what a too-large batch does on a GPU)."""
    trainer, original = run.trainer, run.trainer.model.forward

    def forward(*args, **kwargs):
        if trainer.step == step - 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return original(*args, **kwargs)

    trainer.model.forward = forward
    return lambda: setattr(trainer.model, "forward", original)


def test_with_log_every_5_continue_release_and_resume_start_at_the_step_trained(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 10, "log_every": 5, "log_every_s": 0.0}))
    restore = _out_of_memory_at(run, 8)
    assert run.train().ends[-1].message.startswith("out of memory at step 8")
    restore()
    # Steps 6 and 7 trained but were never logged: the run is at 7, not at the last log (5).
    assert [s.step for s in run.history.steps] == [5] and run.history.last_step == 7
    run.export(tmp_path / "r", checkpoint=True)
    assert json.loads((tmp_path / "r" / "run.json").read_text())["steps_done"] == 7
    trained = [p.detach().clone() for p in run.trainer.params]

    run.release()  # a new trainer, as the panel makes for an earlier run trained again
    assert run.trainer.step == 7
    resumed = Run.resume(tmp_path / "r")
    assert resumed.trainer.step == 7 and resumed.history.last_step == 7
    assert all(torch.equal(a, b) for a, b in zip(trained, resumed.trainer.params))
    for again in (run, resumed):
        history = again.train()
        assert [s.step for s in history.steps] == [5, 10] and history.ends[-1].step == 10
        assert again.trainer.scheduler.last_epoch == 10  # three optimizer steps, not five


def test_one_rule_refuses_a_total_at_or_below_the_steps_done_everywhere(make_config, tmp_path, capsys):
    from workbench.cli import main
    from workbench.errors import ConfigError

    run = Run.create(make_config(train={"steps": 4, "log_every": 3, "checkpoint_every": 4}))
    run.train(checkpoint_to=tmp_path / "r")
    said = "the run is at step 4; a total of {} steps would train nothing"
    for total in (4, 2):
        with pytest.raises(ConfigError, match=said.format(total)):
            run.train(steps=total)
        run.trainer.settings.steps = total
        with pytest.raises(ConfigError, match=said.format(total)):
            run.trainer.fit()
        run.trainer.settings.steps = 4
        with pytest.raises(ConfigError, match=said.format(total)):
            Run.resume(tmp_path / "r", steps=total)
        assert main(["train", "--resume", str(tmp_path / "r"), "--steps", str(total)]) == 2
        assert said.format(total) in capsys.readouterr().err
    assert run.history.last_step == 4 and len(run.history.ends) == 1
