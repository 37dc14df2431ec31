"""tiny-demo: shipped, loads offline, needs its instruction, and text init turns the instruction into a prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import Run, generate_texts
from workbench.config import ModelChoice
from workbench.data import toy
from workbench.metrics import text_metrics
from workbench.models import load_model

ROWS = toy.text_examples(40, seed=1_000_003)  # the toy-e2e validation rows
SOURCES = [r["source"] for r in ROWS]


@pytest.fixture(scope="module")
def demo():
    return load_model(ModelChoice("tiny-demo"), "text")


def _coverage(model, tok, prompts):
    outputs = generate_texts(model, tok, prompts, task="causal-lm", max_new_tokens=48)
    return text_metrics(outputs, [r["target"] for r in ROWS], SOURCES)["slot_coverage"], outputs


def test_ships_inside_the_package_small_and_offline(demo):
    weights = Path(demo.path) / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 10 * 2**20
    assert "workbench" in Path(demo.path).parts and demo.architecture == "decoder"
    assert 0.5e6 <= sum(p.numel() for p in demo.model.parameters()) <= 5e6


def test_the_frozen_model_does_the_task_when_asked_and_not_without_the_instruction(demo):
    asked, _ = _coverage(demo.model, demo.tokenizer, [f"describe : {s}" for s in SOURCES])
    bare, _ = _coverage(demo.model, demo.tokenizer, SOURCES)
    assert bare <= 0.10 < asked


def test_text_init_from_the_instruction_reproduces_the_instructed_model(demo, make_config):
    cfg = make_config("tiny-demo", prefix={"length": 2, "init": "text", "init_text": "describe :"})
    run = Run.create(cfg)
    asked = [f"describe : {s}" for s in SOURCES[:8]]
    instructed = generate_texts(demo.model, demo.tokenizer, asked, task="causal-lm", max_new_tokens=48)
    assert run.generate(SOURCES[:8], max_new_tokens=48) == instructed
