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
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .errors import ConfigError
from .models.objectives import Objective, as_objective, takes_former_task_keyword
from .models.sharing import attention_implementation, running
from .tokens import token_labels

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


def _attention_maps(model: Any, objective: Objective, batch: dict[str, torch.Tensor]) -> Any:
    if objective.generative:
        return getattr(model(**batch, output_attentions=True), objective.attention_output, None)
    # A head: for models whose forward takes no cache, PEFT runs the backbone itself and hands the head the
    # backbone's second output when there are two — with attention maps, the maps, which RoBERTa's head cannot
    # read. The maps come from the backbone anyway: run it with the prefix as PEFT does, and leave the head out.
    backbone = model.base_model.get_submodule(model.transformer_backbone_name)
    size, n_prefix = batch["attention_mask"].shape[0], model.active_peft_config.num_virtual_tokens
    # As PEFT's forward does: the prefix slots are always visible, so the mask gains P ones in front.
    mask = torch.cat([batch["attention_mask"].new_ones(size, n_prefix), batch["attention_mask"]], dim=1)
    prompts = model.get_prompt(batch_size=size)
    return backbone(input_ids=batch["input_ids"], attention_mask=mask, past_key_values=prompts,
                    output_attentions=True).attentions  # fmt: skip


def eager_attention(model: Any) -> AbstractContextManager[None]:
    """Run ``model`` (a PeftModel or a transformers model) with eager attention, under its base's lock."""
    return attention_implementation(model, "eager")


@torch.no_grad()
@takes_former_task_keyword
def prefix_attention(
    model: Any,
    tokenizer: Any,
    examples: Sequence[tuple[str, str]],
    *,
    objective: Objective | str,
    separator: str = "->",
    step: int = 0,
) -> ProbeResult:
    """Probe ``model`` on (source, target) ``examples`` rendered as in training."""
    if not examples:
        raise ConfigError("prefix_attention needs at least one (source, target) example")
    objective = as_objective(objective)
    n_prefix = model.active_peft_config.num_virtual_tokens
    device = next(model.parameters()).device
    batch, mask_key = objective.probe_batch(tokenizer, list(examples), separator)
    batch = {k: v.to(device) for k, v in batch.items()}
    with running(model, training=False), eager_attention(model):
        maps = _attention_maps(model, objective, batch)
    if not maps or maps[0] is None:
        raise RuntimeError("the model returned no attention maps even with eager attention")
    # Each map: [batch, heads, queries, prefix + keys]; average over real query positions.
    att = torch.stack([m.float() for m in maps], dim=1)  # [B, L, H, Q, P+K]
    mask = batch[mask_key].float()  # [B, Q]
    on_prefix = att[..., :n_prefix].sum(-1)  # [B, L, H, Q]
    weights = mask[:, None, None, :]
    share = (on_prefix * weights).sum((0, 3)) / weights.sum((0, 3)).clamp_min(1)
    first_len = int(mask[0].sum())
    per_token = att[0, :, :, :first_len, : n_prefix + first_len].cpu().numpy()
    tokens = token_labels(tokenizer, batch[objective.probe_queries][0][:first_len].tolist())  # Ġ/▁ read as ␣
    return ProbeResult(
        share=share.cpu().numpy(),
        per_token=per_token,
        key_labels=[f"P{i}" for i in range(n_prefix)] + list(tokens),
        query_labels=list(tokens),
        prefix_length=n_prefix,
        step=step,
    )
