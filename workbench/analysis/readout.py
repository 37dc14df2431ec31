"""What each prefix slot resembles, in the model's own terms.

A prefix slot is, at each layer, a key the model's queries are matched against. Which
words would the model have put there? :func:`slot_readout` runs the frozen model (no
prefix) on single-token inputs — every vocabulary entry, or a seeded sample of
``vocab`` entries for large vocabularies — captures each token's key at every layer
that carries a prefix (:func:`.masking.token_keys`, at position 0 where rotary models
leave keys unrotated, as they leave the prefix), and ranks the tokens by cosine
similarity to each slot's key (all key heads together). A prefix initialised from a text
starts as exactly such keys, so its init words come out on top before training — the
test that the readout reads right. For prompt tuning the slots are input embeddings and
the ranking is against the input embedding matrix. Plain data out; nothing is trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from peft import PeftType

from ..errors import ConfigError
from ..models.objectives import Objective, as_objective, takes_former_task_keyword
from ..models.sharing import running
from ..tokens import token_labels
from .masking import prefix_keys, token_keys

__all__ = ["Readout", "slot_readout"]

_BATCH = 512  # single-token rows per forward


@dataclass
class Readout:
    """Nearest tokens per slot: ``by_layer[l][p]`` at layer l, ``overall[p]`` by mean similarity over layers.

    Each entry is a list of (token, cosine similarity), nearest first. ``space`` is "keys" (prefix tuning)
    or "embeddings" (prompt tuning); ``vocab`` how many vocabulary entries were compared.
    """

    space: str
    by_layer: list[list[list[tuple[str, float]]]]
    overall: list[list[tuple[str, float]]]
    vocab: int
    vocab_size: int

    def table(self) -> list[dict[str, Any]]:
        """One row per slot: its nearest tokens overall (the panel's table)."""
        return [{"slot": f"P{i}", "nearest": ", ".join(f"{t} ({s:.2f})" for t, s in near)}
                for i, near in enumerate(self.overall)]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "vocab": self.vocab, "vocab_size": self.vocab_size, "overall": self.overall,
                "by_layer": self.by_layer}  # fmt: skip


@torch.no_grad()
@takes_former_task_keyword
def slot_readout(model: Any, tokenizer: Any, *, objective: Objective | str, top: int = 5, vocab: int = 4096,
                 seed: int = 0) -> Readout:  # fmt: skip
    """The ``top`` nearest vocabulary tokens of each slot of ``model``'s prefix (or prompt), per layer and overall."""
    if top < 1 or vocab < 1:
        raise ConfigError(f"top and vocab must be at least 1, got top={top}, vocab={vocab}")
    size = min(len(tokenizer), model.get_input_embeddings().num_embeddings)  # a tokenizer may know more
    ids = _token_ids(tokenizer, size, vocab, seed)
    # As text (a leading space shown as ␣, not Ġ or ▁); a sample of the vocabulary, not a text: read one by one.
    names = token_labels(tokenizer, ids.tolist(), sequence=False)
    with running(model, training=False):
        if model.active_peft_config.peft_type == PeftType.PROMPT_TUNING:
            sims = _embedding_similarity(model, ids)[None]  # [1, P, V]
            space = "embeddings"
        else:
            sims = _key_similarity(model, as_objective(objective), ids)  # [L, P, V]
            space = "keys"
    k = min(top, len(ids))

    def nearest(row: torch.Tensor) -> list[tuple[str, float]]:
        values, index = row.topk(k)
        return [(names[i], round(float(v), 4)) for v, i in zip(values, index.tolist())]

    by_layer = [[nearest(slot) for slot in layer] for layer in sims]
    overall = [nearest(slot) for slot in sims.mean(0)]
    return Readout(space, by_layer, overall, len(ids), size)


def _token_ids(tokenizer: Any, size: int, vocab: int, seed: int) -> torch.Tensor:
    """Every ordinary token id below ``size``, or a seeded sample of ``vocab`` of them (special tokens left out)."""
    special = set(tokenizer.all_special_ids)
    ids = torch.tensor([i for i in range(size) if i not in special])
    if len(ids) > vocab:
        pick = torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed))[:vocab]
        ids = ids[pick.sort().values]
    return ids


def _key_similarity(model: Any, objective: Objective, ids: torch.Tensor) -> torch.Tensor:
    """[layers, P, V]: cosine of each slot's key with each token's key at position 0, per layer."""
    device = next(model.parameters()).device
    prefix = prefix_keys(model)  # layer -> [kv_heads, P, D]
    slots = torch.stack([prefix[layer].transpose(0, 1).flatten(1) for layer in sorted(prefix)])  # [L, P, H*D]
    slots = torch.nn.functional.normalize(slots.float(), dim=-1)
    chunks = []
    for start in range(0, len(ids), _BATCH):
        column = ids[start : start + _BATCH, None].to(device)  # [b, 1]: one token per row
        batch = {"input_ids": column, "attention_mask": torch.ones_like(column)}
        if objective.generative and not objective.decoder_only:  # an encoder-decoder: the decoder reads the token
            batch["decoder_input_ids"] = column
        keys = token_keys(model, batch)  # layer -> [b, kv_heads, 1, D]
        tokens = torch.stack([keys[layer][:, :, 0].flatten(1) for layer in sorted(prefix)])  # [L, b, H*D]
        chunks.append(torch.nn.functional.normalize(tokens.float(), dim=-1))
    return torch.einsum("lpd,lvd->lpv", slots, torch.cat(chunks, dim=1).to(slots.device)).cpu()


def _embedding_similarity(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """[P, V]: cosine of each soft-prompt vector with each token's input embedding."""
    prompt = model.get_prompt_embedding_to_save(model.active_adapter).float()  # [P, hidden]
    table = model.get_input_embeddings().weight[ids.to(model.device)].float()
    return torch.nn.functional.normalize(prompt, dim=-1) @ torch.nn.functional.normalize(table, dim=-1).T.cpu()
