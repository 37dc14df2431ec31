"""A batch's loss, with a decoder's vocabulary logits computed only where a token is learned.

A causal LM's loss needs next-token logits only at the positions whose next token is
learned: the prompt's positions (an E2E meaning representation, a question, a chat's
context) and the padding need none. The output layer is a large share of a small
decoder's work — SmolLM2-135M applies 28 M of its 135 M parameters at every position —
so :func:`batch_loss` asks the model for the logits of the learned positions only
(transformers' ``logits_to_keep``, given as positions) and takes the cross-entropy there:
the loss transformers computes (the mean over learned tokens, logits in float32), without
the rest of the matrix. Heads, encoder-decoders, prompt-learning methods that lengthen
the input (prompt tuning) and models whose forward takes no ``logits_to_keep`` return the
model's own ``loss``. The training loop and the evaluation both call it; it trains nothing.
:func:`row_losses` gives the same loss row by row (summed, with the count it sums), for
the spread of a difference between two scorings of the same rows (:mod:`workbench.analysis`).
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

from .data.encode import IGNORE
from .models.objectives import Objective

__all__ = ["batch_loss", "row_losses"]


def batch_loss(model: Any, batch: dict[str, torch.Tensor], objective: Objective) -> torch.Tensor:
    """The mean loss of ``batch`` (with ``labels``) under ``model``, a scalar tensor that can be backpropagated."""
    if not (objective.decoder_only and _keeps_logits(model)):
        return model(**batch).loss
    logits, targets = _learned_logits(model, batch)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def row_losses(model: Any, batch: dict[str, torch.Tensor], objective: Objective,
               out: Any = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Each row's loss summed over what it learns, and how many terms that is: [B] and [B].

    ``sums.sum() / counts.sum()`` is :func:`batch_loss` (the mean over learned tokens; a head's mean over rows);
    ``sums / counts`` each row's own. ``out``: the model's output for ``batch`` when the caller has it (a head's
    logits, also read for predictions)."""
    labels = batch["labels"]
    if out is None and objective.decoder_only and _keeps_logits(model):
        return _token_sums(*_learned_logits(model, batch))
    logits = (out if out is not None else model(**batch)).logits.float()
    ones = torch.ones(len(labels), device=labels.device)
    if objective.head == "number":  # transformers' regression loss: the squared error of the one output
        return F.mse_loss(logits[:, 0], labels.float(), reduction="none"), ones
    if objective.head == "label":
        return F.cross_entropy(logits, labels, reduction="none"), ones
    if objective.decoder_only:  # each position predicts the next token
        logits, labels = logits[:, :-1], labels[:, 1:]
    return _token_sums(logits, labels)


def _learned_logits(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """A decoder's float32 logits at the positions whose next token some row learns, and those tokens."""
    targets = batch["labels"][:, 1:]  # [B, T-1]: the token each position predicts
    positions = (targets != IGNORE).any(0).nonzero().squeeze(1)  # [K]: positions learned in some row
    inputs = {name: value for name, value in batch.items() if name != "labels"}
    return model(**inputs, logits_to_keep=positions).logits.float(), targets[:, positions]  # [B, K, vocab], [B, K]


def _token_sums(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T, V] logits against [B, T] targets: each row's summed cross-entropy where learned, and the count."""
    losses = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=IGNORE, reduction="none")  # [B, T]
    return losses.sum(1), (targets != IGNORE).sum(1)


def _keeps_logits(model: Any) -> bool:
    """Whether ``model`` (a PeftModel, a DDP-wrapped one or a plain transformers model) keeps positions' logits
    as asked, at the positions of its own input."""
    model = getattr(model, "module", model)  # DDP
    config = getattr(model, "active_peft_config", None)
    if config is not None and config.is_prompt_learning and config.peft_type.value != "PREFIX_TUNING":
        return False  # prompt tuning and P-tuning prepend virtual tokens to the input: positions move
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return _takes_logits_to_keep(type(base))


@cache
def _takes_logits_to_keep(cls: type) -> bool:
    return "logits_to_keep" in inspect.signature(cls.forward).parameters
