"""The families PEFT builds a prefix cache for in its own ways: each trains, probes, exports and reloads.

Gemma 2 and Gemma 3 mix sliding-window and global layers (PEFT takes a path of its own for their cache);
Qwen3 normalises queries and keys; Llama 3 scales RoPE (``rope_type: llama3``). Learning and the probe of
every built-in are covered by the family matrices in test_train and test_probe; here the round trip.
"""

from __future__ import annotations

import pytest
import torch

from workbench import Run

NEW_FAMILIES = ["tiny-gemma2", "tiny-gemma3", "tiny-qwen3", "tiny-llama3"]


@pytest.mark.parametrize("model", NEW_FAMILIES)
def test_a_prefix_trains_exports_and_reloads_to_the_same_logits(make_config, model, tmp_path):
    run = Run.create(make_config(model, train={"steps": 6}))
    run.train()
    probe = run.probe()
    config = run.loaded.model.config
    assert probe.share.shape == (config.num_hidden_layers, config.num_attention_heads)
    again = Run.load(run.export(tmp_path / "run"))
    batch = run.tokenizer(["name[Aromi] food[Italian] ->"], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(run.live_model.eval()(**batch).logits, again.model.eval()(**batch).logits)
    assert again.generate(["name[Aromi] food[Italian]"]) == run.generate(["name[Aromi] food[Italian]"])


def test_the_family_quirks_are_what_the_configs_say():
    from transformers import AutoConfig

    from workbench.models import builtin_path

    kinds = {name: AutoConfig.from_pretrained(builtin_path(name)) for name in NEW_FAMILIES}
    assert set(kinds["tiny-gemma2"].layer_types) == {"sliding_attention", "full_attention"}
    assert set(kinds["tiny-gemma3"].layer_types) == {"sliding_attention", "full_attention"}
    assert kinds["tiny-llama3"].rope_parameters["rope_type"] == "llama3"
    assert kinds["tiny-qwen3"].head_dim == 16
