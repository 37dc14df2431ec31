"""Where attention goes: how much each layer and head puts onto the prefix.

For a few probe examples, :func:`prefix_attention` runs the prefix-tuned model once
with ``output_attentions=True`` and returns (a) the share of attention mass that
each layer × head gives to the prefix positions, averaged over real query tokens
and examples, and (b) the full per-token map of the first example, whose key axis
is labelled ``P0 … P{n-1}`` and then the real tokens. SDPA and flash attention
return no maps, so the model is switched to eager attention for the probe only
and switched back afterwards; training never runs eager. Plotting is elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .data import format_prompt

__all__ = ["ProbeResult", "eager_attention", "prefix_attention"]


@dataclass
class ProbeResult:
    """Attention onto the prefix.

    ``share``: [layers, heads], fraction of attention on prefix slots (0-1).
    ``per_token``: [layers, heads, queries, prefix + keys] for the first example.
    ``key_labels``: ``P0…`` then the tokens; ``query_labels``: the tokens.
    """

    share: np.ndarray
    per_token: np.ndarray
    key_labels: list[str]
    query_labels: list[str]
    prefix_length: int
    step: int = 0

    @property
    def layer_share(self) -> np.ndarray:
        """[layers]: share on the prefix averaged over heads."""
        return self.share.mean(axis=1)


@contextmanager
def eager_attention(model: Any):
    """Temporarily run ``model`` (a PeftModel or a transformers model) with eager attention."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    previous = getattr(base.config, "_attn_implementation", None)
    if previous in (None, "eager"):
        yield
        return
    base.set_attn_implementation("eager")
    try:
        yield
    finally:
        base.set_attn_implementation(previous)


@torch.no_grad()
def prefix_attention(
    model: Any,
    tokenizer: Any,
    examples: Sequence[tuple[str, str]],
    *,
    task: str,
    separator: str = "->",
    step: int = 0,
) -> ProbeResult:
    """Probe ``model`` on (source, target) ``examples`` rendered as in training."""
    if not examples:
        raise ValueError("prefix_attention needs at least one (source, target) example")
    n_prefix = model.active_peft_config.num_virtual_tokens
    device = next(model.parameters()).device
    batch, query_ids = _inputs(tokenizer, examples, task, separator)
    batch = {k: v.to(device) for k, v in batch.items()}
    was_training = model.training
    model.eval()
    try:
        with eager_attention(model):
            out = model(**batch, output_attentions=True)
    finally:
        model.train(was_training)
    maps = out.decoder_attentions if task == "seq2seq" else out.attentions
    if not maps or maps[0] is None:
        raise RuntimeError("the model returned no attention maps even with eager attention")
    # Each map: [batch, heads, queries, prefix + keys]; average over real query positions.
    att = torch.stack([m.float() for m in maps], dim=1)  # [B, L, H, Q, P+K]
    mask = batch["decoder_attention_mask" if task == "seq2seq" else "attention_mask"].float()  # [B, Q]
    on_prefix = att[..., :n_prefix].sum(-1)  # [B, L, H, Q]
    weights = mask[:, None, None, :]
    share = (on_prefix * weights).sum((0, 3)) / weights.sum((0, 3)).clamp_min(1)
    first_len = int(mask[0].sum())
    per_token = att[0, :, :, :first_len, : n_prefix + first_len].cpu().numpy()
    tokens = tokenizer.convert_ids_to_tokens(query_ids[0][:first_len])
    return ProbeResult(
        share=share.cpu().numpy(),
        per_token=per_token,
        key_labels=[f"P{i}" for i in range(n_prefix)] + list(tokens),
        query_labels=list(tokens),
        prefix_length=n_prefix,
        step=step,
    )


def _inputs(
    tokenizer: Any, examples: Sequence[tuple[str, str]], task: str, separator: str
) -> tuple[dict[str, torch.Tensor], list[list[int]]]:
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        if task == "causal-lm":
            texts = [f"{format_prompt(s, separator)} {t}" for s, t in examples]
            enc = tokenizer(texts, return_tensors="pt", padding=True)
            return dict(enc), enc["input_ids"].tolist()
        if task == "seq2seq":
            enc = tokenizer([s for s, _ in examples], return_tensors="pt", padding=True)
            dec = tokenizer(text_target=[t for _, t in examples], return_tensors="pt", padding=True)
            batch = {
                "input_ids": enc["input_ids"],
                "attention_mask": enc["attention_mask"],
                "decoder_input_ids": dec["input_ids"],
                "decoder_attention_mask": dec["attention_mask"],
            }
            return batch, dec["input_ids"].tolist()
        enc = tokenizer([s for s, _ in examples], return_tensors="pt", padding=True)
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, enc["input_ids"].tolist()
    finally:
        tokenizer.padding_side = side
