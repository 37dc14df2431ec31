import logging

import numpy as np
import pytest
import user_files

from workbench import Run
from workbench.attention import prefix_attention
from workbench.history import EvalEvent
from workbench.models import BUILTIN_MODELS, architecture_of
from workbench.models.objectives import resolve_objective
from workbench.ui import Workbench


def _pairs():
    # Every built-in model with every kind of data it can learn (a regression file for the encoders' head).
    from transformers import AutoConfig

    from workbench.models import builtin_path

    for name in BUILTIN_MODELS:
        arch = architecture_of(AutoConfig.from_pretrained(builtin_path(name)))
        for kind, dataset in [("text", "toy-e2e"), ("classification", "toy-sentiment"), ("tagging", "toy-ner"),
                              ("regression", "stars")]:  # fmt: skip
            try:
                resolve_objective(arch, kind)
            except Exception:
                continue
            if kind != "regression" or arch == "encoder":
                yield name, dataset


@pytest.fixture(scope="module")
def panel():
    panel = Workbench(chart_interval_s=0, chart_budget=None)
    panel.settled()
    return panel


@pytest.mark.parametrize(("model", "dataset"), list(_pairs()))
def test_the_probe_and_the_panels_views_work_for_every_model_and_kind(make_config, panel, tmp_path, caplog,
                                                                      model, dataset):  # fmt: skip
    if dataset == "stars":
        path = user_files.write(tmp_path / "stars.csv", user_files.stars(n=40))
        cfg = make_config(model, str(path), data={"columns": {"text": "review", "label": "stars"}})
    else:
        cfg = make_config(model, dataset)
    cfg.train.steps, cfg.train.eval_generate, cfg.train.max_new_tokens = 3, 2, 4
    run = Run.create(cfg)
    history = run.train()
    probe = run.probe()
    base = run.model.get_base_model().config
    layers = getattr(base, "num_decoder_layers", None) or base.num_hidden_layers
    assert probe.share.shape == (layers, base.num_attention_heads)
    assert np.all((probe.share >= 0) & (probe.share <= 1)) and probe.share.sum() > 0
    panel.training.run = run
    with caplog.at_level(logging.ERROR, logger="workbench.ui.train_area"):
        panel.training._show_eval(run, history.evals[-1] if history.evals else EvalEvent(3, 0.0, {}))
    assert not [r for r in caplog.records if r.name.startswith("workbench")]
    assert panel.attention.probe.step == 3 and panel.attention.status.value == ""


@pytest.mark.parametrize(("model", "dataset"), [("tiny-llama", "toy-e2e"), ("tiny-t5", "toy-e2e"),
                                                ("tiny-bert", "toy-sentiment")])  # fmt: skip
def test_prefix_share_per_layer_and_head(make_config, model, dataset):
    run = Run.create(make_config(model, dataset, prefix={"length": 4}))
    base = run.model.get_base_model()
    impl = base.config._attn_implementation
    result = prefix_attention(run.model, run.tokenizer, run.data.preview(2), objective=run.objective)
    layers, heads = base.config.num_hidden_layers, base.config.num_attention_heads
    assert result.share.shape == (layers, heads)
    assert np.all((result.share > 0) & (result.share < 1))
    assert result.key_labels[:4] == ["P0", "P1", "P2", "P3"]
    q = len(result.query_labels)
    assert result.per_token.shape == (layers, heads, q, 4 + q)
    np.testing.assert_allclose(result.per_token.sum(-1), 1.0, rtol=1e-4)  # each query's attention sums to 1
    assert base.config._attn_implementation == impl  # switched back after the probe


def test_zero_prefix_slots_share_attention_equally_until_training_tells_them_apart(make_config):
    # Zero keys score 0 against every query, so each query gives the four slots the same weight.
    run = Run.create(make_config(prefix={"length": 4, "init": "zero"}, train={"steps": 30, "lr": 0.3}))
    before = prefix_attention(run.model, run.tokenizer, run.data.preview(2), objective=run.objective)
    slots = before.per_token[..., :4]  # [layers, heads, queries, slots]
    np.testing.assert_allclose(slots, np.repeat(slots[..., :1], 4, axis=-1), rtol=1e-5)
    assert np.all(before.share > 0)
    run.train()
    after = prefix_attention(run.trainer.unwrapped, run.tokenizer, run.data.preview(2), objective=run.objective)
    spread = after.per_token[..., :4].std(-1)  # trained slots differ from one another
    assert spread.max() > 1e-3


def test_a_heads_maps_are_the_ones_pefts_own_forward_gives(make_config):
    # BERT's forward takes the prefix cache, so PEFT's full path works there: the backbone path must agree.
    import torch

    from workbench.attention import _attention_maps
    from workbench.models.objectives import as_objective

    run = Run.create(make_config("tiny-bert", "toy-sentiment", prefix={"length": 3}))
    batch, _ = run.objective.probe_batch(run.tokenizer, run.data.preview(3), "")
    run.model.eval()
    with torch.no_grad():
        mine = _attention_maps(run.model, as_objective("seq-cls"), batch)
        peft = run.model(**batch, output_attentions=True).attentions
    assert len(mine) == len(peft) and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(mine, peft))
