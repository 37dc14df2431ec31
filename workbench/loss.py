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
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

from .data.encode import IGNORE
from .models.objectives import Objective

__all__ = ["batch_loss"]


def batch_loss(model: Any, batch: dict[str, torch.Tensor], objective: Objective) -> torch.Tensor:
    """The mean loss of ``batch`` (with ``labels``) under ``model``, a scalar tensor that can be backpropagated."""
    if not (objective.decoder_only and _keeps_logits(model)):
        return model(**batch).loss
    targets = batch["labels"][:, 1:]  # [B, T-1]: the token each position predicts
    positions = (targets != IGNORE).any(0).nonzero().squeeze(1)  # [K]: positions learned in some row
    inputs = {name: value for name, value in batch.items() if name != "labels"}
    logits = model(**inputs, logits_to_keep=positions).logits.float()  # [B, K, vocab]
    return F.cross_entropy(logits.flatten(0, 1), targets[:, positions].flatten(), ignore_index=IGNORE)


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
