import numpy as np
import pytest

from workbench import Run
from workbench.probe import prefix_attention


@pytest.mark.parametrize(("model", "dataset"), [("tiny-llama", "toy-e2e"), ("tiny-t5", "toy-e2e"),
                                                ("tiny-bert", "toy-sentiment")])  # fmt: skip
def test_prefix_share_per_layer_and_head(make_config, model, dataset):
    run = Run.create(make_config(model, dataset, prefix={"length": 4}))
    base = run.model.get_base_model()
    impl = base.config._attn_implementation
    result = prefix_attention(run.model, run.tokenizer, run.data.preview(2), task=run.task)
    layers, heads = base.config.num_hidden_layers, base.config.num_attention_heads
    assert result.share.shape == (layers, heads)
    assert np.all((result.share > 0) & (result.share < 1))
    assert result.key_labels[:4] == ["P0", "P1", "P2", "P3"]
    q = len(result.query_labels)
    assert result.per_token.shape == (layers, heads, q, 4 + q)
    np.testing.assert_allclose(result.per_token.sum(-1), 1.0, rtol=1e-4)  # each query's attention sums to 1
    assert base.config._attn_implementation == impl  # switched back after the probe


def test_zero_prefix_gets_attention_but_trained_prefix_changes_it(make_config):
    run = Run.create(make_config(prefix={"length": 4, "init": "zero"}, train={"steps": 30, "lr": 0.3}))
    before = prefix_attention(run.model, run.tokenizer, run.data.preview(2), task=run.task).share
    run.train()
    after = prefix_attention(run.trainer.unwrapped, run.tokenizer, run.data.preview(2), task=run.task).share
    assert not np.allclose(before, after)
