"""Replay the layers an ablation variant shares with the full prefix or with no prefix.

Hiding the prefix at layer i changes nothing below layer i: there, layers compute bit for
bit what they compute with the whole prefix visible; keeping the prefix at layer i only
leaves the layers below as they are with no prefix. :class:`LayerReplay` records every
prefix layer's output, batch by batch, during a reference pass (the full prefix, no
prefix), and in a later pass over the same batches lets the layers below ``start`` return
the recorded output without running — so a variant pays only for the layers from the
first one where it differs. The replayed outputs are the very tensors the reference pass
made, so the scores equal the brute force to the last digit (the tests check it). It
decides nothing about which variant to score; :class:`~workbench.analysis.ablation.Scorer`
does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch

from ..models.sharing import base_lock, base_of
from .masking import prefix_attention

__all__ = ["LayerReplay"]

BUDGET_BYTES = 3 * 2**30  # the most memory the recorded outputs of one reference may take


class LayerReplay:
    """The prefix layers of ``model`` (a list of modules, one per prefix layer) and what reference passes
    recorded there: ``recorded[name][batch][layer]`` is that layer's output (whatever object it returns)."""

    def __init__(self, model: Any, layers: list[torch.nn.Module]) -> None:
        self.model, self.layers = model, layers
        self.recorded: dict[str, list[list[Any]]] = {}

    @classmethod
    def find(cls, model: Any, batch: dict[str, torch.Tensor]) -> LayerReplay | None:
        """The replay for ``model``'s prefix layers, or None when they are not one list of modules (a layer
        holding each prefix attention, in order) — then every variant runs every layer."""
        attention = prefix_attention(model, batch)
        for stack in base_of(model).modules():
            if not isinstance(stack, torch.nn.ModuleList) or len(stack) != len(attention):
                continue
            if all(_holds(stack[i], attention.get(i)) for i in range(len(stack))):
                return cls(model, list(stack))
        return None

    def affordable(self, tokens: int) -> bool:
        """Whether one reference's outputs for ``tokens`` padded tokens fit :data:`BUDGET_BYTES`."""
        config = base_of(self.model).config
        width = getattr(config, "hidden_size", None) or getattr(config, "d_model", 0)
        size = next(self.model.parameters()).element_size()
        return len(self.layers) * tokens * width * size <= BUDGET_BYTES

    @contextmanager
    def record(self, name: str) -> Iterator[None]:
        """Keep every layer's output of each forward in the block, as reference ``name``."""
        outputs: list[list[Any]] = []

        def keeper(layer: int) -> Any:
            def keep(_module: Any, _args: Any, output: Any) -> None:
                while len(outputs) <= batch[0]:
                    outputs.append([None] * len(self.layers))
                outputs[batch[0]][layer] = output

            return keep

        with ExitStack() as stack:
            batch = stack.enter_context(self._counted())
            for i, module in enumerate(self.layers):
                stack.callback(module.register_forward_hook(keeper(i)).remove)
            yield
        if all(None not in row for row in outputs):  # a forward that stopped part-way leaves no reference
            self.recorded[name] = outputs

    @contextmanager
    def replay(self, name: str, start: int) -> Iterator[None]:
        """Inside the block, the layers below ``start`` return reference ``name``'s outputs without running;
        the forwards must be the reference's batches, in its order."""
        outputs = self.recorded[name]
        with ExitStack() as stack:
            batch = stack.enter_context(self._counted())
            for i, module in enumerate(self.layers[:start]):
                own = module.__dict__.get("forward")  # an instance forward (accelerate's hooks) comes back after

                def recorded(*_args: Any, _layer: int = i, **_kwargs: Any) -> Any:
                    return outputs[batch[0]][_layer]

                module.forward = recorded
                stack.callback(_restore, module, own)
            yield

    @contextmanager
    def _counted(self) -> Iterator[list[int]]:
        """[the index of the model's current forward in the block]; the base's lock held throughout, so no
        other thread runs the base while its layers are watched or replaced."""
        batch = [-1]

        def count(*_: Any) -> None:
            batch[0] += 1

        with base_lock(self.model):
            handle = self.model.register_forward_pre_hook(count)
            try:
                yield batch
            finally:
                handle.remove()


def _holds(layer: torch.nn.Module, attention: Any) -> bool:
    return attention is not None and any(module is attention for module in layer.modules())


def _restore(module: torch.nn.Module, own: Any) -> None:
    if own is None:
        del module.forward
    else:
        module.forward = own
