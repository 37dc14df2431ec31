"""Which prefix slots and which layers carry a trained prefix's effect.

:func:`ablate_slots` scores a run on its validation rows with each prefix slot hidden
from attention at every layer, against the full prefix and against no prefix (every slot
hidden), then keeps only the k most important slots for k = 1, 2, … to find the
*effective length*: the fewest slots that keep ≥ 95% of the prefix's loss gain over no
prefix — measured, not summed from single ablations. :func:`ablate_layers` does the same
per layer: the prefix hidden at one layer only, and kept at one layer only. Scores are
the validation loss (on ``rows`` rows) and the run's headline metric (on ``metric_rows``
rows, generated for text models). Hiding is masking (:mod:`.masking`): no weight is
edited, the run's prefix stays bit-identical. Plain data out; figures are in
:mod:`workbench.plots`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from ..data import encode_split
from ..evaluate import evaluate
from ..metrics import metric_info
from .masking import prefix_shape, prefix_visibility

if TYPE_CHECKING:
    from ..run import Run

__all__ = [
    "KEEP_SHARE",
    "LayerAblation",
    "Score",
    "Scorer",
    "SlotAblation",
    "ablate_layers",
    "ablate_slots",
]

KEEP_SHARE = 0.95  # the share of the prefix's gain the effective slots must keep


@dataclass(frozen=True)
class Score:
    """Validation loss, and the headline metric (None when the run has none or ``metric_rows`` is 0)."""

    loss: float
    metric: float | None = None


@dataclass
class SlotAblation:
    """Scores with each slot hidden (``without[i]``) and with only the top-k slots kept (``kept[k-1]``)."""

    metric: str
    full: Score
    none: Score
    without: list[Score]
    order: list[int]  # slots, the one whose hiding costs most first
    kept: list[float]  # loss with only order[:k] visible, k = 1..P
    rows: int = 0
    effective: list[int] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """How much the prefix lowers the loss against no prefix (≤ 0: it does not help yet)."""
        return self.none.loss - self.full.loss

    @property
    def helps(self) -> bool:
        """Whether the gain is more than rounding: at least a thousandth of the loss without the prefix."""
        return _measurable(self.gain, self.none.loss)

    def kept_share(self, k: int) -> float:
        """The share of the gain that the k most important slots keep on their own."""
        return (self.none.loss - self.kept[k - 1]) / self.gain if self.helps else 0.0

    def suggestion(self) -> str:
        n = len(self.without)
        if not self.helps:
            return (f"the prefix does not measurably lower the validation loss against no prefix ({self.full.loss:.4f} "
                    f"vs {self.none.loss:.4f}); train longer or with another learning rate first")  # fmt: skip
        k = len(self.effective)
        slots = ", ".join(f"P{i}" for i in self.effective)
        share = self.kept_share(k)
        if k == n:
            return f"all {n} slots are needed to keep {KEEP_SHARE:.0%} of the gain; try a longer prefix"
        return f"slots {slots} keep {share:.0%} of the gain on their own; try prefix length {k} (of {n})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gain": self.gain, "suggestion": self.suggestion()}


@dataclass
class LayerAblation:
    """Scores with the prefix hidden at one layer (``without[l]``) and kept at one layer only (``only[l]``)."""

    metric: str
    full: Score
    none: Score
    without: list[Score]
    only: list[Score]
    rows: int = 0

    @property
    def gain(self) -> float:
        return self.none.loss - self.full.loss

    def cost(self, layer: int) -> float:
        """The share of the gain lost when ``layer`` loses its prefix."""
        return (self.without[layer].loss - self.full.loss) / self.gain if self.helps else 0.0

    @property
    def helps(self) -> bool:
        return _measurable(self.gain, self.none.loss)

    def layers_that_matter(self, share: float = 0.1) -> list[int]:
        """Layers whose prefix is worth at least ``share`` of the gain, the costliest first."""
        ranked = sorted(range(len(self.without)), key=self.cost, reverse=True)
        return [layer for layer in ranked if self.cost(layer) >= share]

    def summary(self) -> str:
        if not self.helps:
            return "the prefix does not measurably lower the validation loss against no prefix; no layer stands out"
        layers = self.layers_that_matter()
        if not layers:
            return "no single layer's prefix is worth 10% of the gain: the effect is spread over the layers"
        parts = ", ".join(f"layer {layer} ({self.cost(layer):.0%})" for layer in layers)
        return f"the prefix works through {parts}: the share of its gain lost when that layer's prefix is hidden"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gain": self.gain, "costs": [self.cost(i) for i in range(len(self.without))],
                "summary": self.summary()}  # fmt: skip


class Scorer:
    """Scores a run on its first ``rows`` validation rows with only the ``visible`` [layers, P] slots attended to.

    Each mask is scored once: the slot and the layer ablation share one Scorer (:func:`workbench.analysis.analyse`)
    and so the full prefix and no prefix, which both need. A loss-only request is served by a scored metric too.
    """

    def __init__(self, run: Run, rows: int, metric_rows: int) -> None:
        if rows < 1:
            raise ValueError(f"rows must be at least 1, got {rows}")
        if run.metric:
            metric_info(run.metric)  # an unknown metric name fails here, before any scoring
        self.run, self.rows, self.metric_rows = run, rows, metric_rows
        self.shape = prefix_shape(run.live_model)
        config = run.config
        # The first ``rows`` validation rows, for the loss and (heads) the metric alike.
        self.data = dataclasses.replace(
            run.data, validation=run.data.validation.select(range(min(rows, len(run.data.validation))))
        )
        self.encoded = encode_split(self.data, "validation", run.tokenizer, run.task,
                                    max_length=config.data.max_length, separator=config.data.separator)  # fmt: skip
        self._scores: dict[tuple[bytes, bool], Score] = {}

    def visible(self, slots: Any) -> torch.Tensor:
        """The mask with ``slots`` visible at every layer."""
        visible = torch.zeros(self.shape, dtype=torch.bool)
        visible[:, list(slots)] = True
        return visible

    def __call__(self, visible: torch.Tensor, with_metric: bool) -> Score:
        key = visible.numpy().tobytes()
        found = self._scores.get((key, True)) or self._scores.get((key, with_metric))
        if found is None:
            found = self._scores[(key, with_metric)] = self._score(visible, with_metric)
        return found

    def _score(self, visible: torch.Tensor, with_metric: bool) -> Score:
        run, config = self.run, self.run.config
        with prefix_visibility(run.live_model, visible):
            result = evaluate(run.live_model, run.tokenizer, run.task, self.data, self.encoded,
                              batch_size=config.train.batch_size * 2, separator=config.data.separator,
                              n_generate=self.metric_rows if with_metric else 0,
                              max_new_tokens=config.train.max_new_tokens)  # fmt: skip
        assert result is not None  # no stop callable
        value = result.metrics.get(run.metric) if with_metric else None
        number = float(value) if value is not None and math.isfinite(value) else None
        return Score(result.loss, number)


def ablate_slots(run: Run, *, rows: int = 64, metric_rows: int = 16, progress: Callable[[str], None] | None = None,
                 scorer: Scorer | None = None) -> SlotAblation:  # fmt: skip
    """Hide each prefix slot at every layer; find the fewest slots that keep ≥ 95% of the gain.

    ``scorer``: the run's :class:`Scorer` to share with :func:`ablate_layers` (it then sets the rows).
    """
    score = scorer or Scorer(run, rows, metric_rows)
    tell = progress or (lambda _: None)
    n = score.shape[1]
    full, none = score(score.visible(range(n)), True), score(score.visible(()), True)
    without = []
    for slot in range(n):
        tell(f"slot P{slot} hidden ({slot + 1} of {n})")
        without.append(score(score.visible([s for s in range(n) if s != slot]), True))
    order = sorted(range(n), key=lambda s: without[s].loss, reverse=True)
    kept = [score(score.visible(order[:k]), False).loss for k in range(1, n)] + [full.loss]
    result = SlotAblation(score.run.metric, full, none, without, order, kept, rows=score.rows)
    k = next((k for k in range(1, n + 1) if result.kept_share(k) >= KEEP_SHARE), n)
    result.effective = sorted(order[:k]) if result.helps else []
    return result


def ablate_layers(run: Run, *, rows: int = 64, metric_rows: int = 16, progress: Callable[[str], None] | None = None,
                  scorer: Scorer | None = None) -> LayerAblation:  # fmt: skip
    """Hide the prefix at one layer at a time, and keep it at one layer at a time (``scorer``: as in
    :func:`ablate_slots`)."""
    score = scorer or Scorer(run, rows, metric_rows)
    tell = progress or (lambda _: None)
    layers = score.shape[0]
    everything = torch.ones(score.shape, dtype=torch.bool)
    full, none = score(everything, True), score(~everything, True)
    without, only = [], []
    for layer in range(layers):
        tell(f"layer {layer} ({layer + 1} of {layers})")
        one = torch.zeros(score.shape, dtype=torch.bool)
        one[layer] = True
        without.append(score(~one, True))
        only.append(score(one, True))
    return LayerAblation(score.run.metric, full, none, without, only, rows=score.rows)


def _measurable(gain: float, loss: float) -> bool:
    return gain > 1e-3 * abs(loss)
