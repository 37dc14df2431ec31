"""tiny-demo: shipped, loads offline, needs its instruction, a prefix learns it, text init turns it into a prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import Run
from workbench.config import ModelChoice, TrainSettings
from workbench.data import toy
from workbench.generate import generate_texts
from workbench.metrics import text_metrics
from workbench.models import load_model

ROWS = toy.text_examples(40, seed=1_000_003)  # the toy-e2e validation rows
SOURCES = [r["source"] for r in ROWS]


@pytest.fixture(scope="module")
def demo():
    return load_model(ModelChoice("tiny-demo"), "text")


def _coverage(model, tok, prompts):
    outputs = generate_texts(model, tok, prompts, objective="causal-lm", max_new_tokens=48)
    return text_metrics(outputs, [[r["target"]] for r in ROWS], SOURCES)["slot_coverage"], outputs


def test_ships_inside_the_package_small_and_offline(demo):
    weights = Path(demo.path) / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 10 * 2**20
    assert "workbench" in Path(demo.path).parts and demo.architecture == "decoder"
    assert 0.5e6 <= sum(p.numel() for p in demo.model.parameters()) <= 5e6


def test_the_frozen_model_does_the_task_when_asked_and_not_without_the_instruction(demo):
    asked, _ = _coverage(demo.model, demo.tokenizer, [f"describe : {s}" for s in SOURCES])
    bare, _ = _coverage(demo.model, demo.tokenizer, SOURCES)
    assert bare <= 0.10 and asked >= 0.9


def test_a_short_default_run_learns_the_task_without_the_instruction(make_config):
    # The CLI's defaults (prefix 10, its lr, batch 8), cut to 60 steps: the frozen model scores 0.00 bare.
    train = {"steps": 60, "lr": TrainSettings().lr, "warmup_steps": 6, "eval_generate": 16, "max_new_tokens": 48}
    cfg = make_config("tiny-demo", prefix={"length": 10}, train=train)
    cfg.data.max_train_examples, cfg.data.max_length = None, 128
    history = Run.create(cfg).train()
    assert history.evals[-1].metrics["slot_coverage"] >= 0.9


def test_text_init_from_the_instruction_reproduces_the_instructed_model(demo, make_config):
    cfg = make_config("tiny-demo", prefix={"length": 2, "init": "text", "init_text": "describe :"})
    run = Run.create(cfg)
    asked = [f"describe : {s}" for s in SOURCES[:8]]
    instructed = generate_texts(demo.model, demo.tokenizer, asked, objective="causal-lm", max_new_tokens=48)
    assert run.generate(SOURCES[:8], max_new_tokens=48) == instructed
