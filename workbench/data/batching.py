"""The order training rows are batched in: seeded epochs, optionally grouped by length.

A batch is padded to its longest row, so a shuffle that puts a 10-token row beside a
60-token one computes mostly padding. :func:`epoch_batches` deals one epoch's batches:
a seeded permutation of the rows (the same for a given seed and epoch, so a resumed run
continues where it stopped), and with ``by_length`` the permutation cut into groups of
:data:`GROUP_BATCHES` batches, each group sorted by length and cut into batches, and the
batches of the whole epoch shuffled again — rows of alike length share a batch while
which rows meet, and when, stays random (the idea of transformers' ``group_by_length``).
It knows nothing about tensors, devices or the training loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["GROUP_BATCHES", "epoch_batches", "padded_tokens", "padding_share", "row_length", "shortest_first"]

GROUP_BATCHES = 16  # batches per length group: large enough to find alike lengths, small enough to stay random


def epoch_batches(lengths: Sequence[int], batch_size: int, *, seed: int, epoch: int,
                  by_length: bool = False) -> list[list[int]]:  # fmt: skip
    """The row indices of each full batch of epoch ``epoch`` (a last, partial batch is dropped)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    count = max(len(order) // batch_size, 1)
    if not by_length:
        return [order[b * batch_size : (b + 1) * batch_size] for b in range(count)]
    group = batch_size * GROUP_BATCHES
    batches = []
    for start in range(0, count * batch_size, group):
        # Longest first within a group; Python's sort is stable, so ties keep the permutation's order.
        rows = sorted(order[start : min(start + group, count * batch_size)], key=lambda i: -lengths[i])
        batches += [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    shuffle = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffle]


def shortest_first(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Every row, shortest first, cut into batches (the last may be smaller): how evaluation batches a split,
    so that alike lengths share a batch. Ties keep the rows' order."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def row_length(feature: dict[str, Any]) -> int:
    """What a row adds to its batch's padded size: its input ids plus its label ids where those are a sequence
    (a decoder's labels run beside its inputs; an encoder-decoder's are the decoder's own length)."""
    labels = feature.get("labels")
    return len(feature["input_ids"]) + (len(labels) if isinstance(labels, list) else 0)


def padded_tokens(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> int:
    """The tokens ``batches`` (row indices) hold once each is padded to its longest row."""
    return sum(max(lengths[i] for i in batch) * len(batch) for batch in batches)


def padding_share(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """The share of the padded tokens of ``batches`` that are padding."""
    padded = padded_tokens(lengths, batches)
    real = sum(lengths[i] for batch in batches for i in batch)
    return 1 - real / padded if padded else 0.0
