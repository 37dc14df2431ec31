"""A second real decoder family: Gemma 3 270M (from PyPI's four GGUF parts), prefix-tuned a few steps.

It trains (PEFT builds Gemma's prefix cache on a path of its own), is probed on every layer and head (4 query
heads share 1 KV head), exports an adapter that names the hub id with a card carrying the Gemma NOTICE, and
reloads from the fetched copy to identical logits. The test never fetches: that needs the user's acceptance of
the Gemma Terms of Use (and ~2 minutes), so it runs where
``prefix-workbench fetch gemma3-270m --accept-license gemma`` was run into the test home.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from workbench import Run
from workbench.models import fetch

NAME = "gemma3-270m"

pytestmark = pytest.mark.skipif(
    not (fetch.fetched_path(NAME) / "config.json").is_file(),
    reason=f"{NAME} is not fetched on this machine (it needs the Gemma Terms accepted: PREFIX_WORKBENCH_HOME="
    f"{fetch.fetched_path(NAME).parents[1]} prefix-workbench fetch {NAME} --accept-license gemma)",
)


def test_gemma3_trains_probes_exports_and_reloads_with_identical_logits(make_config, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "hub_reachable", lambda: pytest.fail("a fetched model does not ask the Hub"))
    # Short rows and no generation while training: each step runs a 262,144-token output layer on two cores.
    cfg = make_config(NAME, "toy-e2e", data={"max_train_examples": 16, "max_eval_examples": 4, "max_length": 40},
                      prefix={"length": 4}, train={"steps": 3, "batch_size": 2, "warmup_steps": 1, "lr": 3e-2,
                                                   "eval_generate": 0})  # fmt: skip
    run = Run.create(cfg)
    config = run.loaded.model.config
    assert (config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads) == (18, 4, 1)
    assert run.counts.trainable == 4 * 18 * 2 * 1 * 256  # P x layers x (K, V) x KV heads x head_dim
    [prefix] = [p for p in run.live_model.parameters() if p.requires_grad]
    start = prefix.detach().clone()
    history = run.train()
    assert history.last_step == 3 and all(math.isfinite(step.loss) for step in history.steps)
    assert math.isfinite(history.evals[-1].loss) and not torch.equal(prefix.detach(), start)
    probe = run.probe()
    assert probe.share.shape == (18, 4) and ((probe.share > 0) & (probe.share <= 1)).all()
    out = run.export(tmp_path / "run")
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "google/gemma-3-270m"
    weights = json.loads((out / "run.json").read_text())["base_weights"]
    assert weights["file"] == "gemma-3-270m-q4_k_m.gguf" and weights["quantization"] == "Q4_K_M"
    card = (out / "README.md").read_text()
    assert "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms" in card
    assert "prefix-workbench fetch gemma3-270m --accept-license gemma" in card
    again = Run.load(out)
    assert again.loaded.path == str(fetch.fetched_path(NAME))
    batch = run.tokenizer(["name[Aromi] food[Italian] ->"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(again.model(**batch).logits, run.live_model.eval()(**batch).logits)
