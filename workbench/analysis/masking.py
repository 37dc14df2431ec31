"""Hide chosen prefix slots from attention, layer by layer, without touching any weight.

The analyses ask what happens when a prefix slot (or a layer's whole prefix) is not
there. :func:`prefix_visibility` answers by masking: inside the context, the model runs
a registered attention function (transformers' ``AttentionInterface``) that is PyTorch's
SDPA with one change: at a layer whose keys start with that layer's prefix, the key
columns of hidden slots are masked out of the softmax. The model itself runs as usual
— PEFT builds the prefix cache and its all-ones prefix mask, positions are those the
prefix was trained with — so "everything visible" is the run's own forward (up to the
SDPA kernel) and "nothing visible" is the frozen base with positions shifted by the
prefix length, which for RoPE and relative-position models is the frozen base itself.
A call is recognised as a prefix layer's self-attention by its first keys being, bit for
bit, the prefix keys PEFT built for that forward (``get_prompt`` is watched inside the
context: with a projection MLP its output depends on the batch size, to the last bit), so
encoder and cross-attention calls pass untouched.
:func:`prefix_keys` reads the prefix's keys per layer; :func:`token_keys` captures the
frozen model's own keys for a batch of inputs (used by the readout). Nothing here
scores or plots.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import CompatibilityError
from ..models.sharing import attention_implementation, base_of

__all__ = ["prefix_attention", "prefix_keys", "prefix_shape", "prefix_visibility", "token_keys"]

_NAME = "workbench_prefix_ablation"
_USERS, _USERS_LOCK = [0], threading.Lock()  # analyses holding the registration (see _registered)


@dataclass
class _Masking:
    """What the attention function applies while a context is active."""

    visible: torch.Tensor  # [layers, P] bool
    # layer -> the prefix keys of row 0 that the latest forward built (recorded by _installed), [kv_heads, P, dim]
    prefix: dict[int, torch.Tensor] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)  # id(attention module) -> layer, where the prefix was seen
    capture: dict[int, int] | None = None  # read the keys of these modules (id -> layer) instead of masking
    captured: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> keys of the capture forward


_ACTIVE: contextvars.ContextVar[_Masking | None] = contextvars.ContextVar("workbench_masking", default=None)


def _layer_of(module: Any, key: torch.Tensor, state: _Masking) -> int | None:
    layer = getattr(module, "layer_idx", None)
    own = state.prefix.get(layer) if layer is not None else None
    if own is None or key.shape[-2] < own.shape[-2] or key.shape[1] != own.shape[0]:
        return None
    return layer if torch.equal(key[0, :, : own.shape[-2]], own) else None


def _attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attention_mask: Any,
               **kwargs: Any) -> tuple[torch.Tensor, Any]:  # fmt: skip
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    state = _ACTIVE.get()
    if state is not None and state.capture is not None:
        if id(module) in state.capture:
            state.captured[state.capture[id(module)]] = key.detach()
    elif state is not None and (layer := _layer_of(module, key, state)) is not None:
        state.seen[id(module)] = layer
        hidden = ~state.visible[layer].to(key.device)
        if hidden.any():
            attention_mask = _hide(attention_mask, hidden, module, query, key)
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)


def _hide(mask: Any, hidden: torch.Tensor, module: Any, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """``mask`` ([B, 1, Q, K], bool or additive, or None) with the key columns of ``hidden`` slots masked."""
    n_query, n_key = query.shape[-2], key.shape[-2]
    if mask is None:  # SDPA would have used is_causal (or no mask at all): spell it out
        mask = torch.ones(n_query, n_key, dtype=torch.bool, device=key.device)
        if getattr(module, "is_causal", False) and n_query > 1:
            mask = mask.tril(n_key - n_query)  # query i sees keys up to its own position, prefix included
        mask = mask[None, None]
    columns = torch.zeros(n_key, dtype=torch.bool, device=key.device)
    columns[: hidden.numel()] = hidden
    if mask.dtype == torch.bool:
        return mask & ~columns
    return mask.masked_fill(columns, torch.finfo(mask.dtype).min)


@contextmanager
def _registered() -> Iterator[None]:
    """transformers' attention and mask registries hold the masking function only while an analysis runs
    (counted: analyses in two threads share one registration), so a user's own models never see it."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    with _USERS_LOCK:
        if _USERS[0] == 0:
            AttentionInterface.register(_NAME, _attention)
            ALL_MASK_ATTENTION_FUNCTIONS.register(_NAME, sdpa_mask)  # masks arrive in SDPA's (boolean) form
        _USERS[0] += 1
    try:
        yield
    finally:
        with _USERS_LOCK:
            _USERS[0] -= 1
            if _USERS[0] == 0:
                AttentionInterface._global_mapping.pop(_NAME, None)
                ALL_MASK_ATTENTION_FUNCTIONS._global_mapping.pop(_NAME, None)


@contextmanager
def _installed(model: Any, state: _Masking) -> Iterator[_Masking]:
    build = model.get_prompt

    def get_prompt(*args: Any, **kwargs: Any) -> Any:
        # The keys this forward will attend to, exactly (a projection MLP's output for B rows is not, bit for
        # bit, its output for one row).
        cache = build(*args, **kwargs)
        state.prefix = _row_keys(cache)
        return cache

    with ExitStack() as stack:
        stack.enter_context(_registered())
        try:
            stack.enter_context(attention_implementation(model, _NAME))
        except (ValueError, KeyError) as exc:
            raise CompatibilityError(f"{type(base_of(model)).__name__} cannot run a custom attention function, "
                                     f"which the ablations need to mask prefix slots ({exc})") from None  # fmt: skip
        token = _ACTIVE.set(state)
        model.get_prompt = get_prompt  # this model object only, for the block
        try:
            yield state
        finally:
            del model.get_prompt
            _ACTIVE.reset(token)


def _row_keys(cache: Any) -> dict[int, torch.Tensor]:
    cache = getattr(cache, "self_attention_cache", cache)  # an encoder-decoder's prefix is the decoder's
    return {i: layer.keys[0].detach() for i, layer in enumerate(cache.layers)}


def prefix_shape(model: Any) -> tuple[int, int]:
    """(layers, slots) of ``model``'s prefix: the shape of a ``visible`` mask."""
    config = model.active_peft_config
    return config.num_layers, config.num_virtual_tokens


@torch.no_grad()
def prefix_keys(model: Any) -> dict[int, torch.Tensor]:
    """Layer -> the prefix's keys for one row, [kv_heads, P, head_dim] (after any projection)."""
    return {layer: keys.clone() for layer, keys in _row_keys(model.get_prompt(batch_size=1)).items()}


@contextmanager
def prefix_visibility(model: Any, visible: torch.Tensor) -> Iterator[None]:
    """Run ``model`` (a prefix-tuned PeftModel) with only the ``visible`` [layers, P] prefix slots attended to.

    Raises CompatibilityError after the block if a forward ran but no layer's prefix was recognised (an
    architecture whose attention does not go through transformers' attention functions).
    """
    if tuple(visible.shape) != prefix_shape(model):
        raise ValueError(f"visible must be [layers, P] = {list(prefix_shape(model))}, got {list(visible.shape)}")
    # The prefix keys to recognise are recorded from each forward's own get_prompt (see _installed).
    with _installed(model, _Masking(visible.bool())) as state:
        yield
    if not state.seen:
        raise CompatibilityError(f"no attention call of {type(base_of(model)).__name__} saw the prefix through "
                                 "transformers' attention functions, so its slots cannot be masked")  # fmt: skip


@torch.no_grad()
def prefix_attention(model: Any, batch: dict[str, torch.Tensor]) -> dict[int, Any]:
    """Layer -> the attention module that attends to that layer's prefix, found by one forward of ``batch``'s
    first row (for an encoder-decoder: the decoder's self-attention)."""
    state = _Masking(torch.ones(prefix_shape(model), dtype=torch.bool))
    with _installed(model, state):
        model(**{name: tensor[:1] for name, tensor in batch.items()})
    by_id = {id(module): module for module in base_of(model).modules()}
    return {layer: by_id[key] for key, layer in state.seen.items()}


@torch.no_grad()
def token_keys(model: Any, batch: dict[str, torch.Tensor]) -> dict[int, torch.Tensor]:
    """Layer -> the frozen model's keys [B, kv_heads, T, head_dim] for ``batch``, run without the prefix.

    Read from the attention calls that carry the prefix (found by one forward with it): for an
    encoder-decoder the decoder's self-attention, not the encoder's or the cross-attention.
    """
    first = {name: tensor[:1] for name, tensor in batch.items()}
    state = _Masking(torch.ones(prefix_shape(model), dtype=torch.bool))
    with _installed(model, state):
        model(**first)
        state.capture = dict(state.seen)
        model.get_base_model()(**batch)  # not disable_adapter(): PEFT's fails for models that do not generate
    return state.captured
