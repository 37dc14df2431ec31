"""A class chosen by likelihood: a generative model ranks every label given the input, instead of writing one.

A decoder (or encoder-decoder) that learned classification as text — the label word after
the input — can be read two ways: generate and look for a label in the output (which may
hold none: ``unparsed``), or score each label as the output and take the likeliest.
:func:`rank_labels` does the second: for every input it lays out each label exactly as
training did (the label's tokens and the end of sequence after the prompt, :mod:`workbench.data.encode`)
and sums the label tokens' log-probabilities, so every row gets a label and a 77-intent task
needs no free generation. A decoder reads each prompt once (the prefix with it) and continues
that cache with every label, labels of like length batched together — the prompt is most of a row, so this is several
times fewer tokens than a teacher-forced pass per (input, label) pair, with the same positions
and so the same scores. An encoder-decoder scores the pairs teacher-forced. It reads a model;
choosing when to rank is :mod:`workbench.evaluate`'s business.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .data.encode import IGNORE, Collator, encode_seq2seq, format_prompt
from .models.objectives import Objective
from .models.sharing import base_of, running

__all__ = ["rank_labels"]

_UNCUT = 1_000_000_000
_LABELS_PER_PASS = 16


@torch.no_grad()
def rank_labels(
    model: Any,
    tokenizer: Any,
    objective: Objective,
    sources: Sequence[str],
    label_names: Sequence[str],
    *,
    separator: str,
    batch_size: int = 64,
    stop: Callable[[], bool] | None = None,
) -> list[int] | None:
    """The index of the likeliest label for each source (None if ``stop`` turned true on the way).

    A label's score is the summed log-probability of its tokens and the end of sequence: a label whose
    words begin another's ("card" before "card_arrival") is not favoured for being short.
    """
    with running(model, training=False):
        if objective.decoder_only:
            scores = _decoder_scores(model, tokenizer, sources, label_names, separator, stop)
        else:
            scores = _pair_scores(model, tokenizer, sources, label_names, batch_size, stop)
    return None if scores is None else scores.argmax(-1).tolist()


def _decoder_scores(model: Any, tokenizer: Any, sources: Sequence[str], label_names: Sequence[str],
                    separator: str, stop: Callable[[], bool] | None) -> torch.Tensor | None:  # fmt: skip
    """[sources, labels]: each prompt's cache (prefix included) continued by every label."""
    device = next(model.parameters()).device
    # Tokenized apart, as encode_causal does: the prompt's tokens are the same whichever label follows.
    prompts = tokenizer([format_prompt(s, separator) for s in sources])["input_ids"]
    words = tokenizer([" " + name for name in label_names], add_special_tokens=False)["input_ids"]
    targets = [[*word, tokenizer.eos_token_id] for word in words]
    # Labels of like length go together, so a batch of them is little padding (BANKING77's run 2 to 18 tokens).
    order = sorted(range(len(targets)), key=lambda i: len(targets[i]))
    groups = [order[i : i + _LABELS_PER_PASS] for i in range(0, len(order), _LABELS_PER_PASS)]
    rows = []
    for prompt in prompts:
        if stop is not None and stop():
            return None
        out = model(input_ids=torch.tensor([prompt], device=device), use_cache=True)
        first = out.logits[0, -1].float().log_softmax(-1)  # predicts each label's first token
        scores = torch.empty(len(targets))
        for group in groups:
            scores[group] = _continue(model, out.past_key_values, first, [targets[i] for i in group]).cpu()
        rows.append(scores)
    return torch.stack(rows)


def _continue(model: Any, prompt_cache: Any, first: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
    """[len(targets)]: each target's summed log-probability after the prompt whose cache (batch 1) is given."""
    device = first.device
    labels = torch.full((len(targets), max(map(len, targets))), IGNORE, dtype=torch.long)
    for i, target in enumerate(targets):
        labels[i, : len(target)] = torch.tensor(target)
    labels = labels.to(device)
    learned = labels != IGNORE  # [K, W]: each label's tokens and its EOS, then padding on the right
    cache = copy.deepcopy(prompt_cache)  # the prefix's (or virtual tokens') keys and values, then the prompt's
    cache.batch_repeat_interleave(len(targets))
    mask = torch.cat([learned.new_ones(len(targets), cache.get_seq_length()), learned[:, :-1]], 1).long()
    # Every token but the last is fed (nothing is predicted after it), through the base alone: the prefix is
    # already in the cache, and positions continue from its length, where a teacher-forced pass puts them.
    logits = base_of(model)(input_ids=labels[:, :-1].clamp_min(0), attention_mask=mask, past_key_values=cache).logits
    return first[labels[:, 0]] + _summed_logprob(logits, labels[:, 1:])


def _pair_scores(model: Any, tokenizer: Any, sources: Sequence[str], label_names: Sequence[str],
                 batch_size: int, stop: Callable[[], bool] | None) -> torch.Tensor | None:  # fmt: skip
    """[sources, labels]: every (source, label) pair teacher-forced (an encoder-decoder's way)."""
    # Not truncated, as a prompt for generation is not.
    features = encode_seq2seq([(s, name) for s in sources for name in label_names], tokenizer, _UNCUT).features
    collate, device = Collator(tokenizer.pad_token_id), next(model.parameters()).device
    scores: list[float] = []
    for start in range(0, len(features), batch_size):
        if stop is not None and stop():
            return None
        batch = {k: v.to(device) for k, v in collate(features[start : start + batch_size]).items()}
        scores += _summed_logprob(model(**batch).logits, batch["labels"]).tolist()
    return torch.tensor(scores).view(len(sources), len(label_names))


def _summed_logprob(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[B]: the summed log-probability of each row's targets (``logits`` [B, W, V] predicting ``targets`` [B, W];
    IGNORE marks what is not scored)."""
    picked = logits.float().log_softmax(-1).gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return (picked * (targets != IGNORE)).sum(-1)
