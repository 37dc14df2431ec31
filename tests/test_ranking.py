"""A generative model's class by likelihood: every label ranked given the input, the likeliest chosen."""

from __future__ import annotations

import pytest
import torch

from workbench import Run
from workbench.ranking import rank_labels


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
    ranked = rank_labels(run.live_model, run.tokenizer, run.task, sources, names, separator="->", batch_size=3)
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
    assert rank_labels(run.model, run.tokenizer, run.task, sources, run.label_names, separator="->",
                       stop=lambda: True) is None  # fmt: skip
