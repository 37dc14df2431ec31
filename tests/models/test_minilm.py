"""A real encoder: all-MiniLM-L6-v2 (a pretrained BERT) fetched from PyPI, with a head and a prefix on tiny data.

Few and fast (a few seconds each): the fetched copy is the checked one and loads offline for every encoder head,
a classification head trains three steps, exports an adapter that names the hub id with a card that states the
licence, and reloads to the same logits; a tagging head trains three steps on words split into word pieces.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
import user_files as uf

from workbench import Run
from workbench.config import ModelChoice
from workbench.models import PACKAGED_MODELS, fetch, load_model, resolve_model_path
from workbench.models.gguf import file_sha256

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
FAST = {"steps": 3, "batch_size": 8, "warmup_steps": 1}


@pytest.fixture
def offline(monkeypatch):
    """No Hub: a fetched model is its folder."""
    monkeypatch.setattr(fetch, "hub_reachable", lambda: pytest.fail("a fetched model does not ask the Hub"))


def test_the_fetched_copy_is_the_checked_one_and_loads_offline_for_a_regression_head(minilm, offline):
    folder = fetch.fetched_path(minilm)
    assert resolve_model_path(minilm) == str(folder)
    assert file_sha256(folder / "model.safetensors") == PACKAGED_MODELS[minilm].sha256
    loaded = load_model(ModelChoice(minilm), "regression")
    config = loaded.model.config
    assert loaded.architecture == "encoder" and loaded.objective.name == "seq-reg" and config.num_labels == 1
    assert (config.num_hidden_layers, config.num_attention_heads, config.hidden_size) == (6, 12, 384)
    assert loaded.tokenizer("Hello World")["input_ids"] == [101, 7592, 2088, 102]  # uncased WordPiece


def test_a_classification_head_trains_exports_with_its_licence_and_reloads_to_the_same_logits(
    minilm, offline, make_config, tmp_path
):
    from safetensors import safe_open

    data = uf.write(tmp_path / "reviews.csv", uf.reviews(n=40))
    run = Run.create(make_config(minilm, str(data), train=FAST, data={"max_eval_examples": 8, "max_length": 32}))
    assert run.objective.name == "seq-cls"
    # The pooler is the checkpoint's; only the classifier is new, and it trains with the prefix.
    with safe_open(str(fetch.fetched_path(minilm) / "model.safetensors"), "pt") as fh:
        assert torch.equal(run.model.get_base_model().bert.pooler.dense.weight, fh.get_tensor("pooler.dense.weight"))
    assert run.counts.trainable == 5 * 6 * 2 * 384 + 2 * 384 + 2  # P x layers x (K, V) x width + classifier
    history = run.train()
    assert history.last_step == 3 and all(math.isfinite(step.loss) for step in history.steps)
    out = run.export(tmp_path / "run")
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == HUB_ID  # what plain transformers loads where the Hub answers
    assert json.loads((out / "run.json").read_text())["base_weights"] is None  # the Hub's own weights, not converted
    card = (out / "README.md").read_text()
    assert "`minilm-l6`'s licence: Apache-2.0" in card and "carries no licence file" in card
    assert "holds the Hub's own files" in card and "fetch_model('minilm-l6')" in card
    again = Run.load(out)
    assert again.loaded.path == str(fetch.fetched_path(minilm))
    batch = run.objective.probe_batch(run.tokenizer, run.data.preview(3), "")[0]
    with torch.no_grad():
        assert torch.equal(again.model(**batch).logits, run.live_model.eval()(**batch).logits)


def test_a_tagging_head_trains_on_words_split_into_word_pieces(minilm, offline, make_config, tmp_path):
    data = uf.write(tmp_path / "tags.jsonl", uf.tags(n=40))
    run = Run.create(make_config(minilm, str(data), train=FAST, data={"max_eval_examples": 8, "max_length": 32}))
    assert run.objective.name == "token-cls" and run.label_names
    history = run.train()
    assert history.last_step == 3 and all(math.isfinite(step.loss) for step in history.steps)
    result = run.evaluate()
    assert math.isfinite(result.loss) and run.metric in result.metrics
