"""Masking prefix slots: every slot visible is PEFT's own forward; none visible is the prefix-free model."""

from __future__ import annotations

import pytest
import torch

from workbench import Run
from workbench.analysis.masking import prefix_keys, prefix_visibility, token_keys
from workbench.data import Collator


def _batch(run: Run, n: int = 6) -> dict[str, torch.Tensor]:
    _, val = run.splits
    return Collator(run.tokenizer.pad_token_id)(val.features[:n])


@torch.no_grad()
def _loss(model, batch) -> float:
    return float(model(**batch).loss)


@pytest.mark.parametrize("model", ["tiny-gpt2", "tiny-llama", "tiny-t5", "tiny-bart"])
def test_all_visible_is_the_prefix_forward_and_none_visible_the_base(make_config, model):
    run = Run.create(make_config(model, train={"steps": 3}))
    run.train()
    peft_model, batch = run.live_model.eval(), _batch(run)
    layers, n = len(prefix_keys(peft_model)), run.config.prefix.length
    with prefix_visibility(peft_model, torch.ones(layers, n, dtype=torch.bool)):
        full = _loss(peft_model, batch)
    with prefix_visibility(peft_model, torch.zeros(layers, n, dtype=torch.bool)):
        none = _loss(peft_model, batch)
    assert full == pytest.approx(_loss(peft_model, batch), abs=1e-5)
    if model == "tiny-gpt2":
        # Absolute positions: a hidden prefix still moves the tokens' positions by its length, as in training.
        length = batch["input_ids"].shape[1]
        shifted = torch.arange(n, n + length).expand(len(batch["input_ids"]), -1)
        base = float(peft_model.get_base_model()(**batch, position_ids=shifted).loss)
    elif model == "tiny-bart":  # learned positions on the decoder, shifted the same way; not checked here
        base = none
    else:  # rotary or relative positions: with no slot visible it is the frozen base, exactly
        with peft_model.disable_adapter():
            base = _loss(peft_model, batch)
    assert none == pytest.approx(base, abs=1e-5)
    assert abs(none - full) > 1e-3  # the mask did hide something


def test_hiding_one_slot_equals_masking_it_in_the_attention_mask(make_config):
    # The independent route the field notes describe: the base model called with the prefix cache and a
    # prefix mask with a zero at the slot.
    run = Run.create(make_config("tiny-gpt2", train={"steps": 3}))
    run.train()
    model, batch = run.live_model.eval(), _batch(run)
    layers, n = len(prefix_keys(model)), run.config.prefix.length
    for slot in (0, 3):
        visible = torch.ones(layers, n, dtype=torch.bool)
        visible[:, slot] = False
        with prefix_visibility(model, visible):
            masked = _loss(model, batch)
        prefix_mask = torch.ones(len(batch["input_ids"]), n)
        prefix_mask[:, slot] = 0
        with torch.no_grad():
            direct = model.get_base_model()(
                input_ids=batch["input_ids"],
                labels=batch["labels"],
                past_key_values=model.get_prompt(len(prefix_mask)),
                attention_mask=torch.cat([prefix_mask, batch["attention_mask"]], dim=1),
            ).loss
        assert masked == pytest.approx(float(direct), abs=1e-5)


def test_token_keys_are_the_decoders_self_attention_keys(make_config):
    run = Run.create(make_config("tiny-t5", train={"steps": 1}))
    model = run.live_model.eval()
    ids = torch.tensor([[5], [9]])
    keys = token_keys(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids), "decoder_input_ids": ids})
    assert sorted(keys) == sorted(prefix_keys(model))
    assert keys[0].shape[0] == 2 and keys[0].shape[2] == 1
    # Layer 0's key of a decoder token is its own projection of the decoder's embedded token (no encoder in it).
    decoder = model.get_base_model().decoder
    hidden = decoder.block[0].layer[0].layer_norm(decoder.embed_tokens(ids))
    expected = decoder.block[0].layer[0].SelfAttention.k(hidden)
    assert torch.allclose(keys[0].transpose(1, 2).flatten(2), expected, atol=1e-5)


def test_visible_must_match_the_prefix(make_config):
    run = Run.create(make_config("tiny-gpt2", train={"steps": 1}))
    with pytest.raises(ValueError, match=r"\[layers, P\]"), prefix_visibility(run.live_model, torch.ones(1, 1)):
        pass


def test_a_live_prefix_with_a_projection_mlp_is_recognised_in_every_batch(make_config):
    # The MLP's output for B rows differs from its output for one row in the last bits, so the prefix must be
    # recognised from what PEFT built for that very forward, whatever the batch size.
    run = Run.create(make_config("tiny-llama", prefix={"projection": True, "hidden_size": 32}, train={"steps": 3}))
    run.train()
    model = run.live_model.eval()
    layers, n = len(prefix_keys(model)), run.config.prefix.length
    for size in (1, 3, 8):
        batch = _batch(run, size)
        with prefix_visibility(model, torch.zeros(layers, n, dtype=torch.bool)):
            none = _loss(model, batch)
        with model.disable_adapter():
            assert none == pytest.approx(_loss(model, batch), abs=1e-5)
