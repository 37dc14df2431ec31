"""Resumable training state: what the PEFT adapter file does not hold.

PEFT saves only the *projected* prefix (``prompt_embeddings``), not the projection
MLP, and refuses to reopen prompt-learning adapters for training. A checkpoint
therefore keeps every trainable tensor by name (prefix, projection MLP, head)
in ``trainable.safetensors`` and the optimizer, schedule, step and RNG state in
``optimizer.pt``, read back with ``torch.load(weights_only=True)`` so no pickled
code from outside ever runs. Writing the files is :mod:`workbench.export`'s job
(atomically, inside a run directory); this module only converts state to files.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import ExportError, one_line

__all__ = ["CHECKPOINT_DIR", "read_checkpoint", "write_checkpoint"]

CHECKPOINT_DIR = "checkpoint"
_TENSORS = "trainable.safetensors"
_STATE = "optimizer.pt"


def write_checkpoint(state: dict[str, Any], directory: Path) -> None:
    """Write a :meth:`Trainer.state_dict` into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state["trainable"].items()}, str(directory / _TENSORS))
    rest = {k: v for k, v in state.items() if k != "trainable"}
    torch.save(rest, directory / _STATE)


def read_checkpoint(directory: Path) -> dict[str, Any]:
    """The state written by :func:`write_checkpoint`, or a clear :class:`ExportError`."""
    tensors, rest = directory / _TENSORS, directory / _STATE
    if not tensors.is_file() or not rest.is_file():
        raise ExportError(f"{str(directory.parent)!r} has no complete checkpoint to resume from; "
                          "train with checkpoint_every > 0 (CLI: --checkpoint-every N)")  # fmt: skip
    try:
        trainable = load_file(str(tensors))
        state = torch.load(rest, map_location="cpu", weights_only=True)
    except (SafetensorError, OSError, RuntimeError, ValueError, pickle.UnpicklingError) as exc:
        raise ExportError(f"checkpoint in {str(directory)!r} is unreadable (truncated or corrupted?): "
                          f"{one_line(exc)}") from None  # fmt: skip
    return {"trainable": trainable, **state}
