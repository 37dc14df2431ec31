"""How a fresh prefix starts: the keys and values it holds before the first step.

PEFT draws a flat prefix from N(0, 1) (``random``) or zeros it (``zero``); both are
set when PEFT builds the model. ``auto``, the default, is ``matched`` wherever that
applies and ``random`` elsewhere (:func:`resolve` decides). The starts here are written into a built prefix
and need a decoder's own keys and values (a flat prefix: PEFT loads a cache into
it, not into a projection MLP):

- ``text``: the base model's keys/values of ``init_text`` (Li & Liang's real-word
  initialisation), the text repeated to fill the prefix;
- ``example``: the same for the first tokens of a real training row, as the model
  sees it in training;
- ``matched``: a random start drawn at each layer's own scale, N(mean, std) per
  layer, key/value head and channel, measured over the tokens of a few training
  rows. A real model's keys carry large per-channel offsets and its values are far
  smaller than 1 in early layers (SmolLM2: value std 0.04 at layer 0, key channel
  means up to 15), so N(0, 1) slots start unlike any token the layer has seen.

This module writes starting values only; :mod:`workbench.prefix` builds the model
and checks which starts fit it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import torch
from peft import PeftModel
from peft.tuners.cartridge.utils import initialize_kv_prefix_from_past_key_values

from .config import DataChoice, PrefixSettings
from .data import Collator, TaskData
from .errors import CompatibilityError
from .models import LoadedModel
from .process_state import seeded

__all__ = ["FROM_KV", "initialize", "resolve"]

# Starts written from the base model's own keys/values (a decoder's cache, a flat prefix).
FROM_KV = ("text", "example", "matched")
_SAMPLE_ROWS = 8  # rows whose tokens give a layer's statistics: ~500 tokens of E2E, a second on SmolLM2


def resolve(settings: PrefixSettings, architecture: str, *, rows: bool = True) -> str:
    """The start ``settings.init`` stands for: ``auto`` is ``matched`` on a decoder's flat prefix with training
    ``rows`` to measure, ``random`` elsewhere (a projection MLP, an encoder or encoder-decoder, no data).

    Why matched: on SmolLM2 it starts the validation loss at 3.0 where N(0, 1) starts it at 8.0; after 150
    steps at lr 3e-2 it leads on BANKING77 (34 vs 25 %) and is level on E2E (README, *Learning curves*). A text or a
    training row's start did better on one task each, but both depend on the data.
    """
    if settings.init != "auto":
        return settings.init
    return "matched" if architecture == "decoder" and not settings.projection and rows else "random"


@torch.no_grad()
def initialize(
    model: PeftModel,
    loaded: LoadedModel,
    settings: PrefixSettings,
    *,
    data: TaskData | None = None,
    choice: DataChoice | None = None,
    seed: int | None = None,
) -> None:
    """Write ``settings.init``'s start into ``model``'s prefix (nothing to do for random and zero).

    ``data`` and ``choice`` (its max length and separator) give the training rows ``example`` and ``matched``
    read; ``seed`` draws ``matched``'s values.
    """
    if settings.init not in FROM_KV:
        return
    if settings.init == "text":
        ids = loaded.tokenizer(settings.init_text, add_special_tokens=False)["input_ids"]
        if not ids:
            raise CompatibilityError(f"init text {settings.init_text!r} encodes to no tokens")
        _load_cache(model, _repeat(ids, settings.length))
        return
    if data is None or choice is None:
        raise CompatibilityError(f"{settings.init} init reads training rows: pass the run's data")
    rows = _sample_rows(loaded, data, choice)
    if settings.init == "example":
        _load_cache(model, _repeat(rows[0]["input_ids"], settings.length))
        return
    with seeded(seed) if seed is not None else nullcontext():
        cache = _matched_cache(model, rows, settings.length, loaded.tokenizer.pad_token_id)
    initialize_kv_prefix_from_past_key_values(model, past_key_values=cache)


def _repeat(ids: Sequence[int], length: int) -> list[int]:
    # Like PEFT's prompt-tuning text init: repeat the tokens to the prefix length, cut the rest.
    return (list(ids) * math.ceil(length / len(ids)))[:length]


def _sample_rows(loaded: LoadedModel, data: TaskData, choice: DataChoice) -> list[dict[str, Any]]:
    """The first training rows encoded as training encodes them (prompt, separator, target)."""
    rows = data.train.select(range(min(_SAMPLE_ROWS, len(data.train))))
    encoded = loaded.objective.encode(rows, data, loaded.tokenizer, max_length=choice.max_length,
                                 separator=choice.separator).features  # fmt: skip
    encoded = [row for row in encoded if row["input_ids"]]
    if not encoded:
        raise CompatibilityError("the training split has no rows to start the prefix from")
    return encoded


def _base_cache(model: PeftModel, batch: dict[str, torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The base model's (key, value) per layer for ``batch``, each [B, H_kv, T, head_dim]."""
    with model.disable_adapter():
        out: Any = model.get_base_model()(**batch, use_cache=True)
    return [(layer.keys, layer.values) for layer in out.past_key_values.layers]


def _load_cache(model: PeftModel, ids: list[int]) -> None:
    batch = {"input_ids": torch.tensor([ids], device=model.device)}
    initialize_kv_prefix_from_past_key_values(model, past_key_values=_base_cache(model, batch))


def _matched_cache(
    model: PeftModel, rows: list[dict[str, Any]], length: int, pad_id: int | None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A cache of ``length`` slots per layer drawn from N(mean, std) of that layer's real keys and values."""
    batch = Collator(pad_id if pad_id is not None else 0)(rows)
    batch = {k: batch[k].to(model.device) for k in ("input_ids", "attention_mask")}
    mask = batch["attention_mask"].bool()
    mask[:, 0] = False  # a row's first token is an attention sink whose keys are unlike every other token's
    if not mask.any():
        mask[:, 0] = True  # one-token rows: their only tokens
    cache = []
    for keys, values in _base_cache(model, batch):
        drawn = []
        for states in (keys, values):
            tokens = states.transpose(1, 2)[mask[:, -states.shape[2] :]]  # [N, H_kv, head_dim] real tokens only
            mean, std = tokens.mean(0), tokens.std(0, unbiased=False)
            noise = torch.randn((length, *mean.shape), device=mean.device, dtype=mean.dtype)
            drawn.append((mean + std * noise).transpose(0, 1).unsqueeze(0))  # [1, H_kv, length, head_dim]
        cache.append((drawn[0], drawn[1]))
    return cache
