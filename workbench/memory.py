"""How much memory one training step holds, measured the same way on a GPU and on a CPU.

On CUDA, PyTorch keeps a peak counter (``torch.cuda.max_memory_allocated``). On a CPU it
keeps none, so :func:`step_memory` *accounts* for a step tensor by tensor during one
real forward, backward and optimizer step: the weights, the tensors autograd saves for
backward (counted once per storage, parameters excluded: they are the weights), the
gradients that exist after backward, and the optimizer's state. A step's peak lies
between the larger and the sum of activations and gradients; :attr:`StepMemory.total`
reports the sum, one rule for every side of a comparison. ``compare`` and the benches
use it; it trains nothing beyond the one step it is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from .loss import batch_loss

__all__ = ["MB", "StepMemory", "step_memory"]

MB = 2**20


@dataclass
class StepMemory:
    """Bytes one training step holds, by kind (``peak``: CUDA's own counter, when on CUDA)."""

    weights: int
    activations: int
    gradients: int
    optimizer: int
    frozen_with_grad: int  # frozen parameters that got a gradient anyway (must be 0)
    peak: int | None = None

    @property
    def total(self) -> int:
        """The accounted sum, or CUDA's measured peak when there is one."""
        return self.peak if self.peak is not None else self.weights + self.activations + self.gradients + self.optimizer

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def step_memory(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
                *, autocast: Any = None, objective: Any = None) -> StepMemory:  # fmt: skip
    """Run one training step of ``model`` on ``batch`` and account for what it holds (see the module doc).

    ``optimizer`` should already have stepped once, so its state exists (AdamW creates it lazily).
    ``autocast``: a context factory to run the forward under (a trainer's mixed precision); ``objective``:
    the :class:`~workbench.models.objectives.Objective` whose loss the step takes, as a trainer does (None: the
    model's own).
    """
    params = list(model.parameters())
    param_storages = {p.untyped_storage().data_ptr() for p in params}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in param_storages:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    cuda = next(iter(params)).device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    optimizer.zero_grad(set_to_none=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), (autocast or _no_autocast)():
        loss = batch_loss(model, batch, objective) if objective is not None else model(**batch).loss
    loss.backward()
    grads = sum(_nbytes(p.grad) for p in params if p.grad is not None)
    frozen_with_grad = sum(1 for p in params if not p.requires_grad and p.grad is not None)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    state = sum(_nbytes(v) for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v))
    weights = sum(_nbytes(p) for p in params) + sum(_nbytes(b) for b in model.buffers())
    peak = torch.cuda.max_memory_allocated() if cuda else None
    return StepMemory(weights, sum(saved.values()), grads, state, frozen_with_grad, peak)


def _no_autocast() -> Any:
    import contextlib

    return contextlib.nullcontext()
