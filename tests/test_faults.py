"""Faults end in a clear message and a consistent, usable state."""

import json
import time
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
    end = run.train([remember]).ends[-1]  # an ending like any other: returned, not raised
    assert end.reason == "out-of-memory" and end.step == 4 and "smaller --batch-size" in end.message
    assert end.ending.level == "error" and end.ending.trial == "FAIL" and end.ending.exit_code == 5
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


def test_bf16_on_the_cpu_trains_under_autocast_and_fp16_is_refused_in_one_line(make_config):
    run = Run.create(make_config(train={"steps": 12, "precision": "bf16", "lr": 0.3}))
    dtypes = []
    layer = run.model.get_base_model().transformer.h[0].mlp.c_fc
    hook = layer.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    losses = run.train().losses()
    hook.remove()
    assert run.trainer.accelerator.mixed_precision == "bf16" and dtypes[0] == torch.bfloat16  # autocast is on
    assert all(p.dtype == torch.float32 for p in run.trainer.params)  # the prefix itself stays fp32
    assert sum(losses[-3:]) < sum(losses[:3])
    if not torch.cuda.is_available():
        fp16 = Run.create(make_config(train={"precision": "fp16"}))
        with pytest.raises(TrainingError, match="--precision fp16 cannot run on this cpu") as info:
            fp16.train()
        assert "\n" not in str(info.value)


# -- damaged or foreign inputs ------------------------------------------------------------------


@pytest.fixture
def saved(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 3, "checkpoint_every": 3}))
    run.train()
    return run.export(tmp_path / "saved", checkpoint=True)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda info: info.pop("config"), "lacks config (edited or cut short?)"),
        (lambda info: info.update(format="prefix-workbench-run/9"), "has format 'prefix-workbench-run/9'"),
        (lambda info: info.pop("format"), "has format None"),
        (lambda info: info["config"]["train"].update(lr="fast"), "settings in run.json of"),
        (lambda info: info["config"].update(colour="blue"), "unknown run config setting(s) colour"),
    ],
)
def test_an_edited_or_foreign_run_json_is_one_line_and_nothing_is_written(saved, edit, needle):
    info = json.loads((saved / "run.json").read_text())
    edit(info)
    (saved / "run.json").write_text(json.dumps(info))
    before = {p: p.read_bytes() for p in saved.rglob("*") if p.is_file()}
    for opening in (Run.load, Run.resume):
        with pytest.raises(ExportError) as err:
            opening(saved)
        assert needle in str(err.value) and "\n" not in str(err.value)
    assert {p: p.read_bytes() for p in saved.rglob("*") if p.is_file()} == before


def test_another_runs_checkpoint_is_refused_before_anything_changes(saved, make_config, tmp_path):
    import shutil

    other = Run.create(make_config(prefix={"length": 7}, train={"steps": 3, "checkpoint_every": 3}))
    other.train()
    foreign = other.export(tmp_path / "foreign", checkpoint=True)
    shutil.rmtree(saved / "checkpoint")
    shutil.copytree(foreign / "checkpoint", saved / "checkpoint")  # a length-7 prefix's state in a length-5 run
    with pytest.raises(ExportError, match=r"does not fit this run's prefix \(prompt_encoder.* is \(7, \d+\) there, "
                                          r"\(5, \d+\) here\)") as err:  # fmt: skip
        Run.resume(saved)
    assert "\n" not in str(err.value)


# -- two things at once ---------------------------------------------------------------------------


def test_two_panels_train_at_once_and_exporting_a_training_run_from_code_is_refused(make_config, tmp_path):
    from workbench.ui import Workbench

    panels = [Workbench(make_config(train={"steps": 40, "eval_every": 20}, prefix={"length": n}),
                        chart_interval_s=0, chart_budget=None) for n in (3, 4)]  # fmt: skip
    for panel in panels:
        panel.settled()
        panel.train()
    while panels[0].run is None or not panels[0].run.is_training:
        time.sleep(0.01)
    with pytest.raises(ExportError, match="this run is training; stop it") as err:
        panels[0].run.export(tmp_path / "too-soon")
    assert "\n" not in str(err.value) and not (tmp_path / "too-soon").exists()
    runs = [panel.wait() for panel in panels]
    for run, length in zip(runs, (3, 4)):
        assert run.history.ends[-1].reason == "completed" and run.history.last_step == 40
        assert run.model.active_peft_config.num_virtual_tokens == length
        assert Run.load(run.export(tmp_path / f"p{length}")).history.last_step == 40


def test_the_cli_out_of_memory_writes_the_last_completed_step_and_says_why(tmp_path, monkeypatch, capsys):
    from transformers import GPT2LMHeadModel

    from workbench.cli import EXIT_OUT_OF_MEMORY, main

    original, calls = GPT2LMHeadModel.forward, {"training": 0}

    def forward(self, *args, **kwargs):
        if self.training:
            calls["training"] += 1
            if calls["training"] == 4:  # step 4 of 10
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GPT2LMHeadModel, "forward", forward)
    out = tmp_path / "run"
    argv = ["train", "--model", "tiny-gpt2", "--steps", "10", "--eval-every", "0",
            "--max-train-examples", "32", "--prefix-length", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == EXIT_OUT_OF_MEMORY == 5
    said = capsys.readouterr()
    assert "out of memory at step 4" in said.out and "smaller --batch-size" in said.out
    assert "out-of-memory after 3 steps" in said.out and "Traceback" not in said.err
    info = json.loads((out / "run.json").read_text())
    assert info["steps_done"] == 3 and info["history"]["ends"][-1]["reason"] == "out-of-memory"
    assert Run.load(out).history.last_step == 3
