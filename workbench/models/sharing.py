"""A frozen base model shared between runs and threads: one lock per base.

The notebook panel shares one frozen base between its runs and trains one of them in a
background thread while a cell may call another run's ``generate``. Everything that
runs a base — a training step, an evaluation, generation, the attention probe — holds
that base's lock, and whatever switches the base's mode (train / eval) or its attention
implementation does so under the lock and puts back what it found. So a call never sees
another one's switch half-way, and training never continues in eval mode because a
generation ran in between. The lock is re-entrant (an evaluation generates). Nothing
here loads or trains models.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

__all__ = ["LOADING", "attention_implementation", "base_lock", "base_of", "running"]

# transformers builds a model under a process-wide "empty weights" patch (meta device); two threads building
# models at once see each other's patch and end with meta tensors. Every model build and load holds this.
LOADING = threading.RLock()

_LOCKS: WeakKeyDictionary[Any, threading.RLock] = WeakKeyDictionary()
_GUARD = threading.Lock()


def base_of(model: Any) -> Any:
    """The frozen transformers model under a PeftModel (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def base_lock(model: Any) -> threading.RLock:
    """The lock of ``model``'s base: the same object for every run that wraps that base."""
    base = base_of(model)
    with _GUARD:
        lock = _LOCKS.get(base)
        if lock is None:
            lock = _LOCKS[base] = threading.RLock()
    return lock


@contextmanager
def running(model: Any, *, training: bool = False) -> Iterator[None]:
    """Hold the base's lock with ``model`` in train or eval mode; the base's own mode comes back after.

    The mode restored is the *base's* (another run may be training on it), not ``model``'s flag.
    """
    base = base_of(model)
    with base_lock(base):
        was = base.training
        model.train(training)
        try:
            yield
        finally:
            model.train(was)


@contextmanager
def attention_implementation(model: Any, name: str) -> Iterator[None]:
    """Hold the base's lock with its attention implementation set to ``name`` (``eager``, ``sdpa`` or one
    registered with transformers' ``AttentionInterface``); the base's own comes back after. A base that cannot
    take ``name`` raises what transformers raises (ValueError, KeyError) before the block runs."""
    base = base_of(model)
    with base_lock(base):
        previous = getattr(base.config, "_attn_implementation", None) or "eager"  # None: transformers' default
        if previous == name:
            yield
            return
        base.set_attn_implementation(name)
        try:
            yield
        finally:
            base.set_attn_implementation(previous)
