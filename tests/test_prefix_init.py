import pytest
import torch

from workbench.config import DataChoice, ModelChoice, PrefixSettings
from workbench.data import Collator, load_task_data
from workbench.errors import CompatibilityError
from workbench.models import load_model
from workbench.prefix import attach_prefix

CHOICE = DataChoice()  # the toy E2E records, max length 128, separator "->"


@pytest.fixture(scope="module")
def data():
    return load_task_data(CHOICE, seed=0)


def _lm(name="tiny-llama"):
    return load_model(ModelChoice(name), "text")


def _rows(lm, data, n=8):
    rows = data.train.select(range(n))
    return lm.objective.encode(
        rows, data, lm.tokenizer, max_length=CHOICE.max_length, separator=CHOICE.separator
    ).features


def _cache(model, ids, mask=None):
    """The base model's (key, value) per layer, [B, H_kv, T, head_dim]."""
    out = model(input_ids=ids, attention_mask=mask, use_cache=True)
    return [(layer.keys, layer.values) for layer in out.past_key_values.layers]


def _slots(prefixed, length):
    """The prefix as (key, value) per layer, each [length, H_kv, head_dim] (PEFT's layout)."""
    cfg = prefixed.active_peft_config
    heads = cfg.num_attention_heads
    weight = prefixed.prompt_encoder["default"].embedding.weight.detach()
    per_layer = weight.view(length, cfg.num_layers, 2, heads, cfg.token_dim // heads)
    return [(per_layer[:, i, 0], per_layer[:, i, 1]) for i in range(cfg.num_layers)]


def test_an_example_start_is_the_base_models_keys_and_values_of_a_training_row(data):
    """The prefix starts as the first tokens of training row 0, so the prefixed model reads a source exactly as
    the base reads those tokens followed by it."""
    lm = _lm()
    first = _rows(lm, data, 1)[0]["input_ids"][:5]
    source = lm.tokenizer("name [ Aromi ] food [ Italian ] ->", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        expected = lm.model(torch.tensor([first + source])).logits[0, len(first) :]
        model = attach_prefix(lm, PrefixSettings(length=5, init="example"), data=data, choice=CHOICE)
        prefixed = model(input_ids=torch.tensor([source])).logits[0]
    torch.testing.assert_close(prefixed, expected, rtol=1e-4, atol=1e-5)


def test_a_matched_start_is_drawn_at_each_layers_own_key_and_value_scale(data):
    lm = _lm()
    rows = _rows(lm, data)
    batch = Collator(lm.tokenizer.pad_token_id)(rows)
    mask = batch["attention_mask"].bool()
    mask[:, 0] = False  # the attention sink's keys are left out
    with torch.no_grad():
        real = _cache(lm.model, batch["input_ids"], batch["attention_mask"])
    state = torch.random.get_rng_state()
    model = attach_prefix(lm, PrefixSettings(length=400, init="matched"), data=data, choice=CHOICE, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # drawn from the seed, not the user's stream
    for (keys, values), drawn in zip(real, _slots(model, 400), strict=True):
        for states, slots in zip((keys, values), drawn, strict=True):
            tokens = states.transpose(1, 2)[mask]  # [N, H_kv, head_dim]
            mean, std = tokens.mean(0), tokens.std(0, unbiased=False)
            # 400 draws a channel: the sample std within ~7 %, the sample mean within ~0.15 std (2 sigma)
            assert ((slots.std(0, unbiased=False) / std - 1).abs() < 0.2).float().mean() > 0.95
            assert ((slots.mean(0) - mean).abs() < 0.2 * std).float().mean() > 0.95
    again = attach_prefix(_lm(), PrefixSettings(length=400, init="matched"), data=data, choice=CHOICE, seed=3)
    weight = model.prompt_encoder["default"].embedding.weight
    assert torch.equal(weight, again.prompt_encoder["default"].embedding.weight)


def test_starts_from_the_bases_keys_and_values_refuse_what_cannot_hold_them(data):
    with pytest.raises(CompatibilityError, match="matched init needs a decoder model"):
        attach_prefix(_lm("tiny-t5"), PrefixSettings(init="matched"), data=data, choice=CHOICE)
    with pytest.raises(CompatibilityError, match="example init cannot be combined with projection"):
        attach_prefix(_lm(), PrefixSettings(init="example", projection=True), data=data, choice=CHOICE)
    with pytest.raises(CompatibilityError, match="matched init reads training rows"):
        attach_prefix(_lm(), PrefixSettings(init="matched"))


def test_auto_is_matched_where_a_flat_decoder_prefix_has_rows_and_random_elsewhere(data):
    """The default start: the same weights as --init matched on a decoder's flat prefix with data; PEFT's own
    random start (and no error) on a projection MLP, an encoder-decoder, or without training rows."""
    auto = attach_prefix(_lm(), PrefixSettings(), data=data, choice=CHOICE, seed=3)
    matched = attach_prefix(_lm(), PrefixSettings(init="matched"), data=data, choice=CHOICE, seed=3)
    random = attach_prefix(_lm(), PrefixSettings(init="random"), data=data, choice=CHOICE, seed=3)
    weight = [m.prompt_encoder["default"].embedding.weight for m in (auto, matched, random)]
    assert torch.equal(weight[0], weight[1]) and not torch.equal(weight[0], weight[2])
    no_rows = attach_prefix(_lm(), PrefixSettings(), seed=3)
    assert torch.equal(no_rows.prompt_encoder["default"].embedding.weight, weight[2])
    for lm, settings in ((_lm("tiny-t5"), PrefixSettings()), (_lm(), PrefixSettings(projection=True))):
        attach_prefix(lm, settings, data=data, choice=CHOICE, seed=3)  # random: nothing to refuse
