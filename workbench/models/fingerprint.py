"""A base model's fingerprint: a checksum of its weights, cheap enough to take at every export.

A run directory names its base by a name that travels (a hub id, a built-in's name), so
on another machine the name may resolve to other weights: a newer revision, a
fine-tuned copy, a built-in from another workbench version. A prefix trained on one base
means little on another. :func:`fingerprint` hashes every parameter's name, shape and
dtype and an evenly strided sample of its values (at most 4,096 per tensor), skipping a
classification head (PEFT trains and saves its own copy, and a fresh head is random):
two loads of the same weights agree, different weights disagree unless they differ only
between the sampled values. It reads weights; it loads and changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

__all__ = ["fingerprint"]

_SAMPLE = 4096
_HEADS = ("classifier", "score")  # heads PEFT copies into modules_to_save


def fingerprint(model: Any) -> str:
    """``sha256:<hex>`` of ``model``'s base weights (a PeftModel's base, heads left out)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    digest = hashlib.sha256()
    for name, param in sorted(base.named_parameters(), key=lambda item: item[0]):
        if name.split(".", 1)[0] in _HEADS:
            continue
        flat = param.detach().reshape(-1)
        sample = flat[:: max(flat.numel() // _SAMPLE, 1)][:_SAMPLE].to("cpu", torch.float32).contiguous()
        digest.update(f"{name}:{tuple(param.shape)}:{param.dtype}".encode())
        digest.update(sample.numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"
