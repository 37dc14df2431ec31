"""Faults end in a clear message and a consistent, usable state."""

import json
from pathlib import Path

import pytest
import torch

from workbench import Run
from workbench.errors import ExportError, TrainingError
from workbench.history import StepEvent


def test_out_of_memory_is_caught_and_the_run_stays_usable(make_config):
    run = Run.create(make_config(train={"steps": 10}))
    trainer = run.trainer
    original = trainer.model.forward
    kept = {}

    def forward(*args, **kwargs):
        if trainer.step == 4:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(*args, **kwargs)

    def remember(event):
        if isinstance(event, StepEvent) and event.step == 4:
            kept["prefix"] = [p.detach().clone() for p in trainer.params]

    trainer.model.forward = forward
    with pytest.raises(TrainingError, match="smaller --batch-size"):
        run.train([remember])
    end = run.history.ends[-1]
    assert end.reason == "out-of-memory" and end.step == 4
    assert all(torch.equal(a, b) for a, b in zip(kept["prefix"], trainer.params))
    assert all(p.grad is None for p in trainer.params)
    trainer.model.forward = original
    assert run.train().last_step == 10  # a retry continues from the last completed step


def test_adapter_for_another_architecture_is_refused_before_loading(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 3}))
    run.train()
    path = run.export(tmp_path / "gpt2-run")
    info = json.loads((path / "run.json").read_text())
    info["config"]["model"]["name"] = "tiny-llama"  # 2 KV heads of 16, not 4 heads of 16
    (path / "run.json").write_text(json.dumps(info))
    with pytest.raises(ExportError, match=r"does not fit 'tiny-llama': it was trained for num_attention_heads=4"):
        Run.load(path)


# -- the disk refuses a write ------------------------------------------------------------------

FULL = 'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })'


def _disk_full_under(monkeypatch, root, *, times=None):
    """safetensors (through PEFT) fails with a full disk for files under ``root`` (``times``: only that often)."""
    import peft.peft_model
    from safetensors import SafetensorError

    save, left = peft.peft_model.safe_save_file, [times]

    def save_file(tensors, filename, *args, **kwargs):
        if str(filename).startswith(str(root)) and (left[0] is None or left[0] > 0):
            if left[0] is not None:
                left[0] -= 1
            raise SafetensorError(FULL)
        return save(tensors, filename, *args, **kwargs)

    monkeypatch.setattr(peft.peft_model, "safe_save_file", save_file)


def test_a_full_disk_at_export_keeps_the_prefix_in_a_rescue_copy(tmp_path, monkeypatch, capsys):
    from workbench.cli import main

    monkeypatch.setenv("PREFIX_WORKBENCH_HOME", str(tmp_path / "home"))
    target = tmp_path / "disk" / "run"
    _disk_full_under(monkeypatch, tmp_path / "disk")
    code = main(["train", "--steps", "6", "--max-train-examples", "32", "--model", "tiny-gpt2", "--out", str(target)])
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("prefix-workbench")]
    assert code == 4 and len(said) == 1  # (the rest of stderr is the progress bar)
    err = said[0]
    assert f"could not write '{target}': no space left on device; the trained prefix is saved in" in err
    rescued = Path(err.split("saved in ", 1)[1].split(" (", 1)[0])
    assert rescued.is_relative_to(tmp_path / "home" / "rescue") and f"mv {rescued} {target}" in err
    assert not target.exists() and list((tmp_path / "disk").iterdir()) == []  # nothing half-written
    again = Run.load(rescued)
    assert again.history.last_step == 6 and again.config.model.name == "tiny-gpt2"


def test_a_refused_checkpoint_keeps_the_previous_one_and_training_goes_on(make_config, tmp_path, monkeypatch):
    run = Run.create(make_config(train={"steps": 9, "checkpoint_every": 3}))
    _disk_full_under(monkeypatch, tmp_path, times=0)
    run.train(checkpoint_to=tmp_path / "r", callbacks=[lambda e: _fail_from(monkeypatch, tmp_path, e)])
    assert run.history.last_step == 9 and "could not write" in run.checkpoint_problem
    info = json.loads((tmp_path / "r" / "run.json").read_text())  # the checkpoint of step 3, whole
    assert info["steps_done"] == 3 and Run.resume(tmp_path / "r").history.last_step == 3


def _fail_from(monkeypatch, root, event):
    # From step 5 on the disk is full: the checkpoint of step 6 fails, the one of step 3 stays.
    if isinstance(event, StepEvent) and event.step == 5:
        _disk_full_under(monkeypatch, root)


def test_a_path_through_a_file_is_one_line_and_the_panel_keeps_the_run(tmp_path, make_config):
    from workbench.errors import WriteError
    from workbench.ui import Workbench

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = Run.create(make_config(train={"steps": 3}))
    run.train()
    with pytest.raises(WriteError, match=r"could not write .*a-file/run.*: .*a-file' is a file, not a folder") as info:
        run.export(blocker / "run")
    assert "\n" not in str(info.value)
    panel = Workbench(make_config(train={"steps": 3}), chart_interval_s=0, chart_budget=None)
    panel.settled()
    panel.train(wait=True)
    assert panel.export(blocker / "run") is None and "could not write" in panel.progress.status.value
    assert panel.export(tmp_path / "elsewhere") == tmp_path / "elsewhere"  # the run was kept in memory
