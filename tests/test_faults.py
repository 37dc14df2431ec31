"""Faults end in a clear message and a consistent, usable state."""

import json

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
