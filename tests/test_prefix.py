import pytest
import torch

from workbench.config import ModelChoice, PrefixSettings
from workbench.errors import CompatibilityError
from workbench.models import load_model
from workbench.prefix import attach_prefix, estimate_counts, parameter_counts, preflight


def _lm(name="tiny-gpt2", kind="text"):
    return load_model(ModelChoice(name), kind, label_names=["neg", "pos"])


def test_counts_match_the_flat_prefix_shape():
    lm = _lm("tiny-llama")  # GQA: 2 KV heads x head_dim 16 = token_dim 32
    model = attach_prefix(lm, PrefixSettings(length=7))
    counts = parameter_counts(model)
    assert counts.trainable == counts.stored == 7 * 2 * 2 * 32
    assert counts.base == sum(p.numel() for p in lm.model.parameters() if not p.requires_grad)


def test_projection_trains_an_mlp_but_stores_only_the_prefix():
    model = attach_prefix(_lm(), PrefixSettings(length=4, projection=True, hidden_size=16))
    counts = parameter_counts(model)
    assert counts.stored == 4 * 2 * 2 * 64 and counts.trainable > counts.stored


def test_zero_init_prefix_is_zero():
    model = attach_prefix(_lm(), PrefixSettings(length=3, init="zero"))
    assert torch.count_nonzero(model.prompt_encoder["default"].embedding.weight) == 0


@pytest.mark.parametrize("name", ["tiny-gpt2", "tiny-llama"])
def test_text_init_reproduces_the_instructed_model(name):
    """A prefix initialised from the keys/values of 'describe :' acts exactly like the words themselves."""
    lm = _lm(name)
    tok = lm.tokenizer
    instruction = tok("describe :", add_special_tokens=False)["input_ids"]
    source = tok("name [ Aromi ] food [ Italian ] ->", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        instructed = lm.model(torch.tensor([instruction + source])).logits[0, len(instruction) :]
    model = attach_prefix(lm, PrefixSettings(length=len(instruction), init="text", init_text="describe :"))
    with torch.no_grad():
        prefixed = model(input_ids=torch.tensor([source])).logits[0]
    torch.testing.assert_close(prefixed, instructed, rtol=1e-4, atol=1e-5)


def test_text_init_refuses_projection_and_non_decoders():
    with pytest.raises(CompatibilityError, match="cannot be combined with projection"):
        attach_prefix(_lm(), PrefixSettings(init="text", init_text="describe :", projection=True))
    with pytest.raises(CompatibilityError, match="needs a decoder model"):
        attach_prefix(_lm("tiny-t5"), PrefixSettings(init="text", init_text="describe :"))


def test_preflight_names_the_known_failure_modes():
    mistral = _lm("tiny-mistral")
    msgs = [str(f) for f in preflight(mistral, PrefixSettings(length=10), max_length=128)]
    assert any(m.startswith("warning") and "sliding-window" in m and "global" not in m for m in msgs)
    gemma3 = _lm("tiny-gemma3")  # one sliding-window layer and one global layer
    msgs = [str(f) for f in preflight(gemma3, PrefixSettings(length=10), max_length=128)]
    assert any("cannot see the prefix in the sliding-window layers (1 of 2; the global ones still see it)" in m
               for m in msgs)  # fmt: skip

    gpt2 = _lm()
    errors = [f for f in preflight(gpt2, PrefixSettings(length=500), max_length=128) if f.level == "error"]
    assert errors and "allowed prefix length is 1-384" in errors[0].message

    gpt2.model.gradient_checkpointing_enable()
    assert any("gradient checkpointing" in f.message for f in preflight(gpt2, PrefixSettings(), max_length=64))

    t5 = preflight(_lm("tiny-t5"), PrefixSettings(), max_length=64, want_attention=True)
    assert [f.level for f in t5] == ["info", "info"]
    assert "decoder's self-attention only" in t5[0].message and "eager" in t5[1].message


@pytest.mark.parametrize(
    ("model", "dataset", "projection"),
    [("tiny-gpt2", "toy-e2e", False), ("tiny-llama", "toy-e2e", True), ("tiny-t5", "toy-e2e", False),
     ("tiny-bert", "toy-sentiment", False), ("tiny-roberta", "toy-ner", True)],
)  # fmt: skip
def test_estimated_counts_equal_the_wrapped_model(model, dataset, projection):
    kind = {"toy-e2e": "text", "toy-sentiment": "classification", "toy-ner": "tagging"}[dataset]
    names = {"toy-sentiment": ["negative", "positive"], "toy-ner": [f"T{i}" for i in range(7)]}.get(dataset)
    settings = PrefixSettings(length=6, projection=projection, hidden_size=32)
    estimate = estimate_counts(load_model(ModelChoice(model), kind, label_names=names), settings)
    actual = parameter_counts(attach_prefix(load_model(ModelChoice(model), kind, label_names=names), settings))
    assert estimate == actual


def test_a_pretrained_decoder_is_told_the_start_that_learned_faster(tmp_path):
    import shutil

    from workbench.models import builtin_path

    own = tmp_path / "my-gpt"  # any model that is not a built-in counts as pretrained
    shutil.copytree(builtin_path("tiny-gpt2"), own)
    loaded = load_model(ModelChoice(str(own)), "text")

    def notes(**settings):
        return [f.message for f in preflight(loaded, PrefixSettings(**settings), max_length=64) if f.level == "info"]

    assert any("--init auto (matched)" in n for n in notes(init="random"))
    assert any("--init auto (matched)" in n for n in notes(init="zero"))
    assert any("--init text:" in n and "--init example" in n for n in notes())  # auto is matched here: both named
    assert not [n for n in notes(projection=True) if "--init" in n]
    assert not [n for n in notes(init="text", init_text="describe :") if "--init" in n]
    builtin = load_model(ModelChoice("tiny-gpt2"), "text")
    assert not [f for f in preflight(builtin, PrefixSettings(), max_length=64) if "--init" in f.message]


def test_the_projection_mlp_at_a_flat_prefixs_learning_rate_is_flagged():
    gpt2 = _lm()

    def warnings_at(lr, **settings):
        return [f.message for f in preflight(gpt2, PrefixSettings(**settings), max_length=64, lr=lr)
                if f.level == "warning" and "projection MLP" in f.message]  # fmt: skip

    assert warnings_at(1e-1, projection=True) and "--lr 1e-3" in warnings_at(1e-1, projection=True)[0]
    assert not warnings_at(1e-3, projection=True)
    assert not warnings_at(1e-1)  # a flat prefix learns at the default
    assert not warnings_at(None, projection=True)  # no learning rate given: nothing to judge


def test_prefix_dropout_drops_entries_while_training_only():
    lm = _lm()
    source = torch.tensor([lm.tokenizer("name [ Aromi ] ->")["input_ids"]])
    whole = attach_prefix(lm, PrefixSettings(length=6, init="random"), seed=3).eval()
    with torch.no_grad():
        expected = whole(input_ids=source).logits
    dropped = attach_prefix(lm, PrefixSettings(length=6, init="random", dropout=0.5), seed=3)
    encoder = dropped.prompt_encoder["default"]
    tokens = dropped.prompt_tokens["default"].unsqueeze(0).expand(64, -1)
    with torch.no_grad():
        dropped.eval()  # evaluation sees the whole prefix: the same logits as without dropout
        torch.testing.assert_close(dropped(input_ids=source).logits, expected)
        dropped.train()
        out = encoder(tokens)
    zeros = (out == 0).float().mean().item()
    assert 0.45 < zeros < 0.55  # each row of a batch draws its own mask, kept entries scaled by 1 / (1 - 0.5)
    assert not torch.equal(out[0] == 0, out[1] == 0)
    kept = out != 0
    torch.testing.assert_close(out[kept], 2 * encoder.embedding.weight.expand(64, -1, -1)[kept])
