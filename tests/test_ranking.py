"""A generative model's class by likelihood: every label ranked given the input, the likeliest chosen."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, PromptTuningConfig, get_peft_model

from workbench import Run
from workbench.data.encode import IGNORE, encode_causal
from workbench.ranking import _decoder_scores, rank_labels


def _label_logprob_alone(run, source: str, label: str) -> float:
    """One label's summed log-probability (its tokens and EOS), from a pass of its own."""
    tok = run.tokenizer
    prompt = tok(f"{source} ->")["input_ids"]
    target = [*tok(" " + label, add_special_tokens=False)["input_ids"], tok.eos_token_id]
    ids = torch.tensor([prompt + target])
    with torch.no_grad():
        logprobs = run.live_model(input_ids=ids).logits[0].log_softmax(-1)
    return sum(float(logprobs[len(prompt) + i - 1, t]) for i, t in enumerate(target))


@pytest.mark.parametrize("model", ["tiny-gpt2", "tiny-t5"])
def test_the_likeliest_label_wins_and_every_row_gets_one(model, make_config):
    run = Run.create(make_config(model, "toy-sentiment", train={"steps": 6, "eval_generate": 8}))
    run.train()
    sources = [run.data.render(r)[0] for r in run.data.validation.select(range(8))]
    names = run.label_names
    ranked = rank_labels(run.live_model, run.tokenizer, run.objective, sources, names, separator="->", batch_size=3)
    assert len(ranked) == 8 and set(ranked) <= set(range(len(names)))
    if model == "tiny-gpt2":  # a decoder: checked against each label scored on its own
        for source, choice in zip(sources, ranked):
            scores = [_label_logprob_alone(run, source, name) for name in names]
            assert choice == max(range(len(names)), key=scores.__getitem__)
    result = run.evaluate()
    assert "unparsed" not in result.metrics and all(p >= 0 for p in result.predictions)
    assert all(s["output"] in names for s in result.samples)


def test_generation_stays_an_option_and_says_what_it_could_not_read(make_config):
    run = Run.create(make_config("tiny-gpt2", "toy-sentiment", train={"steps": 4, "label_choice": "generation"}))
    assert "unparsed" in run.evaluate().metrics


def test_a_stop_abandons_the_ranking(make_config):
    run = Run.create(make_config("tiny-gpt2", "toy-sentiment", train={"steps": 4}))
    sources = [run.data.render(r)[0] for r in run.data.validation.select(range(4))]
    assert rank_labels(run.model, run.tokenizer, run.objective, sources, run.label_names, separator="->",
                       stop=lambda: True) is None  # fmt: skip


def _teacher_forced(model, tokenizer, sources, names) -> torch.Tensor:
    """[sources, labels]: every (source, label) pair in a teacher-forced pass of its own, as training lays it out."""
    features = encode_causal([(s, n) for s in sources for n in names], tokenizer, 10**9, "->").features
    scores = []
    with torch.no_grad():
        for f in features:
            ids = f["input_ids"]  # prompt tuning's logits begin with its virtual tokens': the last len(ids) are ours
            logprobs = model(input_ids=torch.tensor([ids])).logits[0, -len(ids) : -1].float().log_softmax(-1)
            target = torch.tensor(f["labels"][1:])
            learned = target != IGNORE
            scores.append(logprobs[learned].gather(-1, target[learned].unsqueeze(-1)).sum())
    return torch.stack(scores).view(len(sources), len(names))


def _peft(kind: str):
    """A fresh, non-trivial adapter of another kind (LoRA starts at a random B, not zero, so it changes the logits)."""
    if kind == "prompt":
        return lambda m: get_peft_model(m, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4))
    return lambda m: get_peft_model(m, LoraConfig(task_type="CAUSAL_LM", r=4, init_lora_weights=False,
                                                  target_modules="all-linear"))  # fmt: skip


@pytest.mark.parametrize(("model", "method"), [
    ("tiny-gpt2", "prefix"), ("tiny-llama", "prefix"), ("tiny-opt", "prefix"), ("tiny-gemma2", "prefix"),
    ("tiny-gemma3", "prefix"), ("tiny-phi3", "prefix"), ("tiny-llama", "prompt"), ("tiny-llama", "lora"),
])  # fmt: skip
def test_a_shared_prompt_cache_scores_exactly_as_each_pair_on_its_own(model, method, make_config):
    # A decoder reads each prompt once and continues its cache with every label: the positions, the prefix
    # and each family's quirks (learned positions from the mask, sliding windows, soft-capping) must match.
    cfg = make_config(model, "toy-sentiment", train={"steps": 1}, prefix={"init": "random"})
    run = Run.create(cfg)
    live = run.live_model
    if method != "prefix":
        torch.manual_seed(0)
        live = _peft(method)(run.live_model.get_base_model())
    sources = [run.data.render(r)[0] for r in run.data.validation.select(range(3))]
    names = [*run.label_names, "a much longer label"]
    with torch.no_grad():
        shared = _decoder_scores(live, run.tokenizer, sources, names, "->", None)
    torch.testing.assert_close(shared, _teacher_forced(live, run.tokenizer, sources, names), atol=1e-4, rtol=1e-5)
