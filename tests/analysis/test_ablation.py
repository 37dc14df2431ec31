"""Slot and layer ablation against known answers."""

from __future__ import annotations

import pytest
import torch

from workbench import Run
from workbench.analysis import Scorer, ablate_layers, ablate_slots
from workbench.data import Collator


def _one_live_slot(make_config, slot: int) -> Run:
    """A prefix whose slots are all zero (keys that attract little, values that add nothing) but one."""
    run = Run.create(make_config("tiny-llama", data={"max_eval_examples": 24}))
    embedding = run.live_model.prompt_encoder["default"].embedding.weight  # [P, layers * 2 * dim]
    with torch.no_grad():
        embedding.zero_()
        embedding[slot] = torch.randn(embedding.shape[1], generator=torch.Generator().manual_seed(1)) * 20
    return run


def test_the_one_slot_that_differs_ranks_first_and_is_the_effective_length(make_config):
    run = _one_live_slot(make_config, slot=3)
    result = ablate_slots(run, rows=24, metric_rows=0)
    assert result.order[0] == 3
    assert result.without[3].loss == max(s.loss for s in result.without)
    assert result.effective == [3]
    assert "try prefix length 1 (of 5)" in result.suggestion()
    assert len(result.kept) == 1 and result.kept_share(1) >= 0.95  # asked no further than the effective length


def test_hiding_every_slot_is_the_frozen_base(make_config):
    run = _one_live_slot(make_config, slot=1)
    score = Scorer(run, 24, 0)
    result = ablate_slots(run, scorer=score)
    model, total, size = run.live_model.eval(), 0.0, score._batch_size
    rows = sorted(score._encoded.features, key=lambda f: len(f["input_ids"]))  # evaluate()'s batches
    with torch.no_grad(), model.disable_adapter():  # tiny-llama: rotary positions, so no offset either
        for start in range(0, 24, size):
            batch = Collator(run.tokenizer.pad_token_id)(rows[start : start + size])
            total += float(model(**batch).loss) * len(rows[start : start + size])
    assert result.none.loss == pytest.approx(total / 24, abs=1e-5)
    assert abs(result.gain) > 1e-2  # the live slot does change the loss


def test_layer_ablation_finds_the_only_layer_with_a_prefix(make_config):
    run = _one_live_slot(make_config, slot=0)
    embedding = run.live_model.prompt_encoder["default"].embedding.weight
    per_layer = embedding.shape[1] // 2  # tiny-llama has 2 layers: [layer 0's keys+values | layer 1's]
    with torch.no_grad():
        embedding[:, :per_layer] = 0  # layer 0's prefix goes neutral; layer 1 keeps the live slot
    result = ablate_layers(run, rows=24, metric_rows=4)
    assert result.layers_that_matter() == [1]
    assert result.only[1].loss == pytest.approx(result.full.loss, abs=0.05 * result.gain)
    assert result.cost(1) > 0.8 and abs(result.cost(0)) < 0.1
    assert result.full.metric is not None  # exact_match / BLEU on 4 generated rows, with the prefix masked too


def test_each_variant_carries_the_standard_error_of_its_per_row_difference(make_config):
    import math
    import statistics

    from workbench.evaluate import evaluate

    run = _one_live_slot(make_config, slot=0)
    embedding = run.live_model.prompt_encoder["default"].embedding.weight
    with torch.no_grad():
        embedding[:, : embedding.shape[1] // 2] = 0  # as above: only layer 1 has a prefix that matters
    score = Scorer(run, 24, 0)
    slots, layers = ablate_slots(run, scorer=score), ablate_layers(run, scorer=score)

    def row_losses(visible):  # each row's loss with only ``visible`` attended to, scored apart from the Scorer
        from workbench.analysis.masking import prefix_visibility

        with prefix_visibility(run.live_model, visible):
            return evaluate(run.live_model, run.tokenizer, run.objective, score.data, score._encoded, n_generate=0,
                            per_row=True).row_losses  # fmt: skip

    full = row_losses(score.visible(range(5)))
    hidden = row_losses(score.visible([1, 2, 3, 4]))
    differences = [a - b for a, b in zip(hidden, full)]
    assert slots.without[0].se == pytest.approx(statistics.stdev(differences) / math.sqrt(24), rel=1e-4)
    assert slots.full.se is None and slots.none.se is None  # the references themselves
    assert all(s.se is not None and s.se > 0 for s in layers.without + layers.only)
    assert layers.cost_se(1) == pytest.approx(layers.without[1].se / layers.gain)
    assert f"layer 1 ({layers.cost(1) * 100:.0f} ± {layers.cost_se(1) * 100:.0f}%)" in layers.summary()
    share, se = slots.kept_share(1), slots.kept_share_se(1)
    assert f"keep {share * 100:.0f} ± {se * 100:.0f}% of the gain on their own" in slots.suggestion()


def test_an_untrained_prefix_gets_an_honest_suggestion(make_config):
    run = Run.create(make_config("tiny-gpt2", prefix={"init": "zero"}))
    result = ablate_slots(run, rows=8, metric_rows=0)
    # Zero keys and values: the prefix only dilutes attention a little; no gain worth a suggestion.
    assert not result.helps and abs(result.gain) < 1e-3 * result.none.loss
    assert "does not measurably lower the validation loss" in result.suggestion()
    assert result.effective == []


def test_rows_must_be_positive(make_config):
    run = Run.create(make_config("tiny-gpt2"))
    with pytest.raises(ValueError, match="rows must be at least 1"):
        ablate_slots(run, rows=0)
