"""Replayed layers give the brute force's scores to the last digit, on every built-in family and kind."""

from __future__ import annotations

import pytest
import torch

from workbench import Run
from workbench.analysis import Scorer, ablate_layers, ablate_slots
from workbench.analysis.replay import LayerReplay


@pytest.mark.parametrize(("model", "datasets"), [
    ("tiny-llama", ["toy-e2e"]), ("tiny-gpt2", ["toy-e2e"]), ("tiny-t5", ["toy-e2e"]), ("tiny-gemma", ["toy-e2e"]),
    ("tiny-opt", ["toy-e2e"]), ("tiny-gpt-neox", ["toy-e2e"]), ("tiny-bert", ["toy-ner"]),
    ("tiny-roberta", ["toy-sentiment"]), ("tiny-demo", ["toy-e2e", "toy-sentiment"]),
])  # fmt: skip
def test_the_fast_path_equals_the_brute_force(make_config, model, datasets):
    run = Run.create(make_config(model, datasets[0], data={"mix": datasets[1:]}, prefix={"length": 3},
                                 train={"steps": 4, "lr": 5e-2}))  # fmt: skip
    run.train()
    fast, brute = Scorer(run, 12, 2), Scorer(run, 12, 2, replay=False)
    assert fast._replay is not None and brute._replay is None  # every built-in's layers are found
    layers = [ablate_layers(run, scorer=s).to_dict() for s in (fast, brute)]
    slots = [ablate_slots(run, scorer=s).to_dict() for s in (fast, brute)]
    assert layers[0] == layers[1] and slots[0] == slots[1]  # ==: every loss and metric to the last digit
    assert fast.work < brute.work  # fewer layers run


def test_generation_runs_only_for_the_variants_the_findings_name(make_config):
    run = Run.create(make_config("tiny-gpt2", train={"steps": 4}))
    run.train()
    result = ablate_layers(run, rows=8, metric_rows=2)
    named = set(result.layers_that_matter())
    assert result.full.metric is not None and result.none.metric is not None
    assert all((s.metric is not None) == (layer in named) for layer, s in enumerate(result.without))
    assert all(s.metric is None for s in result.only)


def test_a_head_gets_its_metric_with_every_loss(make_config):
    run = Run.create(make_config("tiny-bert", "toy-sentiment"))
    result = ablate_layers(run, rows=8, metric_rows=0)
    assert all(s.metric is not None for s in result.without + result.only)


def test_the_replayed_outputs_are_the_references_and_the_model_is_left_as_it_was(make_config):
    from workbench.data import Collator

    run = Run.create(make_config("tiny-llama"))
    model, (_, val) = run.live_model.eval(), run.splits
    batch = Collator(run.tokenizer.pad_token_id)(val.features[:4])
    replay = LayerReplay.find(model, batch)
    assert replay is not None and len(replay.layers) == 2
    with torch.no_grad():
        with replay.record("full"):
            reference = model(**batch).logits
        assert len(replay.recorded["full"]) == 1 and None not in replay.recorded["full"][0]
        with replay.replay("full", 2):  # every layer replayed: the logits follow from the recorded outputs
            assert torch.equal(model(**batch).logits, reference)
        assert all("forward" not in layer.__dict__ for layer in replay.layers)
        assert torch.equal(model(**batch).logits, reference)
