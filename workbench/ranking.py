"""A class chosen by likelihood: a generative model ranks every label given the input, instead of writing one.

A decoder (or encoder-decoder) that learned classification as text — the label word after
the input — can be read two ways: generate and look for a label in the output (which may
hold none: ``unparsed``), or score each label as the output and take the likeliest.
:func:`rank_labels` does the second: for every input it lays out each label exactly as
training did (the label's tokens and the end of sequence after the prompt, :mod:`workbench.data.encode`),
sums the label tokens' log-probabilities in one teacher-forced pass per batch and picks the
highest, so every row gets a label and a 77-intent task needs no free generation. It reads
a model; choosing when to rank is :mod:`workbench.evaluate`'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .data.encode import IGNORE, Collator, encode_causal, encode_seq2seq
from .models.sharing import running
from .models.tasks import ModelTask

__all__ = ["rank_labels"]

_UNCUT = 1_000_000_000


@torch.no_grad()
def rank_labels(
    model: Any,
    tokenizer: Any,
    task: ModelTask,
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
    pairs = [(source, label) for source in sources for label in label_names]
    # Not truncated, as a prompt for generation is not.
    if task.decoder_only:
        features = encode_causal(pairs, tokenizer, _UNCUT, separator).features
    else:
        features = encode_seq2seq(pairs, tokenizer, _UNCUT).features
    collate, device = Collator(tokenizer.pad_token_id), next(model.parameters()).device
    scores: list[float] = []
    with running(model, training=False):
        for start in range(0, len(features), batch_size):
            if stop is not None and stop():
                return None
            batch = {k: v.to(device) for k, v in collate(features[start : start + batch_size]).items()}
            scores += _label_logprob(model(**batch).logits, batch["labels"], shift=task.decoder_only).tolist()
    by_row = torch.tensor(scores).view(len(sources), len(label_names))
    return by_row.argmax(-1).tolist()


def _label_logprob(logits: torch.Tensor, labels: torch.Tensor, *, shift: bool) -> torch.Tensor:
    """[B]: the summed log-probability of each row's labelled tokens (a decoder's logits predict the next token)."""
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    logprobs = logits.float().log_softmax(-1)
    mask = labels != IGNORE
    picked = logprobs.gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)
