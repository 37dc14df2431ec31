"""Which prefix slots and which layers carry a trained prefix's effect.

:func:`ablate_slots` scores a run on its validation rows with each prefix slot hidden
from attention at every layer, against the full prefix and against no prefix (every slot
hidden), then keeps only the k most important slots for k = 1, 2, … to find the
*effective length*: the fewest slots that keep ≥ 95% of the prefix's loss gain over no
prefix — measured, not summed from single ablations. :func:`ablate_layers` does the same
per layer: the prefix hidden at one layer only, and kept at one layer only. Scores are
the validation loss (on ``rows`` rows), and the run's headline metric: with the loss for
heads; generated (on ``metric_rows`` records) for text models only where the findings
name a variant — the full prefix, no prefix, the effective slots, the layers that matter.
Each variant's loss carries the standard error of its mean per-row difference from its
reference (the full prefix for a hidden slot or layer, no prefix for the slots or layer
kept), so a finding says how sure it is. Hiding is masking (:mod:`.masking`): no weight
is edited, the run's prefix stays bit-identical; the layers a variant shares with the full
prefix or no prefix are replayed, not rerun (:mod:`.replay`). Plain data out; figures are
in :mod:`workbench.plots`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from ..data import Collator, EncodedSplit, encode_split
from ..data.batching import padded_tokens, shortest_first
from ..errors import ConfigError
from ..evaluate import evaluate
from ..metrics import metric_info
from ..models.sharing import base_of
from .masking import prefix_shape, prefix_visibility
from .replay import LayerReplay

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
    """Validation loss, and the headline metric (None when the run has none or ``metric_rows`` is 0).

    ``se``: the standard error of the mean per-row loss difference from the variant's reference, the same rows
    scored both ways (None for the references themselves, or under two rows)."""

    loss: float
    metric: float | None = None
    se: float | None = None


@dataclass
class SlotAblation:
    """Scores with each slot hidden (``without[i]``) and with only the top-k slots kept (``kept[k-1]``)."""

    metric: str
    full: Score
    none: Score
    without: list[Score]
    order: list[int]  # slots, the one whose hiding costs most first
    kept: list[float]  # loss with only order[:k] visible, k = 1, 2, … up to the effective length (the rest unasked)
    rows: int = 0
    kept_se: list[float | None] = field(default_factory=list)  # each kept[k-1]'s standard error against no prefix
    effective: list[int] = field(default_factory=list)
    effective_score: Score | None = None  # the effective slots alone, with the metric

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

    def kept_share_se(self, k: int) -> float | None:
        """The standard error of :meth:`kept_share` (the gain taken as measured)."""
        se = self.kept_se[k - 1] if k <= len(self.kept_se) else None
        return se / self.gain if se is not None and self.helps else None

    def kept_text(self, k: int) -> str:
        """:meth:`kept_share` with its standard error, as findings print it: "96 ± 3%"."""
        return _share(self.kept_share(k), self.kept_share_se(k))

    def suggestion(self) -> str:
        n = len(self.without)
        if not self.helps:
            return (f"the prefix does not measurably lower the validation loss against no prefix ({self.full.loss:.4f} "
                    f"vs {self.none.loss:.4f}); train longer or with another learning rate first")  # fmt: skip
        k = len(self.effective)
        slots = ", ".join(f"P{i}" for i in self.effective)
        if k == n:
            return f"all {n} slots are needed to keep {KEEP_SHARE:.0%} of the gain; try a longer prefix"
        alone = self.effective_score.metric if self.effective_score else None
        measured = (f" ({self.metric} {alone:.3g} with them, {self.full.metric:.3g} with all)"
                    if alone is not None and self.full.metric is not None else "")  # fmt: skip
        return (
            f"slots {slots} keep {self.kept_text(k)} of the gain on their own{measured}; try prefix length {k} (of {n})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gain": self.gain, "suggestion": self.suggestion()}


def _share(share: float, se: float | None) -> str:
    """A share of the gain with its standard error: "96 ± 3%"."""
    return f"{share:.0%}" if se is None else f"{share * 100:.0f} ± {se * 100:.0f}%"


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

    def cost_se(self, layer: int) -> float | None:
        """The standard error of :meth:`cost` (the gain taken as measured)."""
        se = self.without[layer].se
        return se / self.gain if se is not None and self.helps else None

    def cost_text(self, layer: int) -> str:
        """:meth:`cost` with its standard error, as findings print it: "13 ± 4%"."""
        return _share(self.cost(layer), self.cost_se(layer))

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
        parts = ", ".join(f"layer {layer} ({self.cost_text(layer)})" for layer in layers)
        return f"the prefix works through {parts}: the share of its gain lost when that layer's prefix is hidden"

    def to_dict(self) -> dict[str, Any]:
        layers = range(len(self.without))
        return {**asdict(self), "gain": self.gain, "costs": [self.cost(i) for i in layers],
                "cost_se": [self.cost_se(i) for i in layers], "summary": self.summary()}  # fmt: skip


class Scorer:
    """Scores a run on its first ``rows`` validation rows with only the ``visible`` [layers, P] slots attended to.

    Each mask's loss is computed once and its metric at most once: the slot and the layer ablation share one
    Scorer (:func:`workbench.analysis.analyse`), and so the full prefix and no prefix, which both need. Heads'
    metrics (and perplexity) come with the loss; a generated metric costs generation, asked for by name
    (``with_metric``). With ``replay`` (the default), the full prefix's and no prefix's layer outputs are
    recorded when those are scored, and a later mask that agrees with one of them on its lowest layers replays
    those layers instead of running them (:mod:`.replay`): same scores, to the last digit, in less time.
    ``work`` is the cost of the passes so far in :meth:`cost`'s units (layers run), for progress.
    """

    def __init__(self, run: Run, rows: int, metric_rows: int, *, replay: bool = True) -> None:
        if rows < 1:
            raise ConfigError(f"rows must be at least 1, got {rows}")
        if run.metric:
            metric_info(run.metric)  # an unknown metric name fails here, before any scoring
        self.run, self.metric_rows = run, metric_rows
        self.shape = prefix_shape(run.live_model)
        config = run.config
        # The first ``rows`` validation rows (``self.rows``: as many as there are); generation takes the first
        # ``metric_rows`` records of them.
        self.rows = min(rows, len(run.data.validation))
        self.data = dataclasses.replace(run.data, validation=run.data.validation.select(range(self.rows)))
        self._encoded = encode_split(self.data, "validation", run.tokenizer, run.objective,
                                     max_length=config.data.max_length, separator=config.data.separator)  # fmt: skip
        self._batch_size = config.train.batch_size * 2
        self._losses: dict[bytes, tuple[float, float | None]] = {}
        self._row_losses: dict[bytes, list[float]] = {}  # each mask's loss on every row, for a paired spread
        self._metrics: dict[bytes, float | None] = {}
        self._replay = LayerReplay.find(run.live_model, Collator(run.tokenizer.pad_token_id)(
            self._encoded.features[:1])) if replay else None  # fmt: skip
        self.work = 0.0
        base = base_of(run.live_model)
        head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
        self._head_size = sum(p.numel() for p in head.parameters()) if head is not None else 0
        self._layer_size = (sum(p.numel() for p in base.parameters()) - self._head_size) / self.shape[0]

    def cost(self, skipped: int = 0) -> float:
        """What one pass over the rows costs, in parameters run (the layers from ``skipped`` up and the output
        layer): the unit of ``work``. ``skipped`` counts only where layers are replayed."""
        skipped = skipped if self._replay is not None else 0
        return (self.shape[0] - skipped) * self._layer_size + self._head_size

    def visible(self, slots: Any) -> torch.Tensor:
        """The mask with ``slots`` visible at every layer."""
        visible = torch.zeros(self.shape, dtype=torch.bool)
        visible[:, list(slots)] = True
        return visible

    def __call__(self, visible: torch.Tensor, with_metric: bool = False, *,
                 against: torch.Tensor | None = None) -> Score:  # fmt: skip
        """The score with ``visible`` slots attended to; ``against``: the reference mask its ``se`` is taken to."""
        key = visible.numpy().tobytes()
        if key not in self._losses:
            self._losses[key] = self._loss(visible)
        loss, metric = self._losses[key]
        if metric is None and with_metric and self.metric_rows and self.run.metric:
            if key not in self._metrics:
                self._metrics[key] = self._generated(visible)
            metric = self._metrics[key]
        return Score(loss, metric, self._spread(key, against) if against is not None else None)

    def _spread(self, key: bytes, against: torch.Tensor) -> float | None:
        """The standard error of the mean per-row loss difference between ``key``'s mask and ``against``."""
        self(against)  # scored once, as every mask is
        pairs = zip(self._row_losses[key], self._row_losses[against.numpy().tobytes()])
        differences = [a - b for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
        if len(differences) < 2:
            return None
        return statistics.stdev(differences) / math.sqrt(len(differences))

    def _loss(self, visible: torch.Tensor) -> tuple[float, float | None]:
        """The loss over every row, and the headline metric where it comes with the loss (heads, perplexity)."""
        run, layers = self.run, self.shape[0]
        name, start = _reference(visible)
        skipped = 0
        with ExitStack() as stack:
            stack.enter_context(prefix_visibility(run.live_model, visible))
            if self._replay is not None and start == layers and name not in self._replay.recorded:
                if self._replay.affordable(_padded_tokens(self._encoded, self._batch_size)):
                    stack.enter_context(self._replay.record(name))
            elif self._replay is not None and 0 < start < layers and name in self._replay.recorded:
                stack.enter_context(self._replay.replay(name, start))
                skipped = start
            result = evaluate(run.live_model, run.tokenizer, run.objective, self.data, self._encoded,
                              batch_size=self._batch_size, n_generate=0, per_row=True)  # fmt: skip
        assert result is not None  # no stop callable
        self.work += self.cost(skipped)
        self._row_losses[visible.numpy().tobytes()] = result.row_losses
        return result.loss, _number(result.metrics.get(run.metric))

    def _generated(self, visible: torch.Tensor) -> float | None:
        """The headline metric of ``metric_rows`` generated records (or labels ranked) under ``visible``."""
        run, config = self.run, self.run.config
        with prefix_visibility(run.live_model, visible):
            result = evaluate(run.live_model, run.tokenizer, run.objective, self.data, EncodedSplit([], 0),
                              batch_size=self._batch_size, separator=config.data.separator,
                              n_generate=self.metric_rows, max_new_tokens=config.train.max_new_tokens)  # fmt: skip
        assert result is not None
        return _number(result.metrics.get(run.metric))


def ablate_slots(run: Run, *, rows: int = 64, metric_rows: int = 16, progress: Callable[[str], None] | None = None,
                 scorer: Scorer | None = None) -> SlotAblation:  # fmt: skip
    """Hide each prefix slot at every layer; find the fewest slots that keep ≥ 95% of the gain.

    The metric is generated for the full prefix, no prefix and the effective slots (``effective_score``).
    ``scorer``: the run's :class:`Scorer` to share with :func:`ablate_layers` (it then sets the rows).
    """
    score = scorer or Scorer(run, rows, metric_rows)
    tell = progress or (lambda _: None)
    n = score.shape[1]
    everything, nothing = score.visible(range(n)), score.visible(())
    full, none = score(everything, True), score(nothing, True)
    without = []
    for slot in range(n):
        tell(f"slot P{slot} hidden ({slot + 1} of {n})")
        without.append(score(score.visible([s for s in range(n) if s != slot]), against=everything))
    order = sorted(range(n), key=lambda s: without[s].loss, reverse=True)
    result = SlotAblation(score.run.metric, full, none, without, order, [], rows=score.rows)
    if not result.helps:  # no gain to keep: the effective slots are not asked
        return result
    for k in range(1, n + 1):  # the costliest k slots together, until they keep enough of the gain
        if k < n:
            tell(f"the {k} costliest slots kept (at most {n - 1})")
        kept = score(score.visible(order[:k]), against=nothing)
        result.kept.append(kept.loss)
        result.kept_se.append(kept.se)
        if result.kept_share(k) >= KEEP_SHARE:
            break
    result.effective = sorted(order[:k])
    result.effective_score = score(score.visible(order[:k]), True, against=nothing)
    return result


def ablate_layers(run: Run, *, rows: int = 64, metric_rows: int = 16, progress: Callable[[str], None] | None = None,
                  scorer: Scorer | None = None) -> LayerAblation:  # fmt: skip
    """Hide the prefix at one layer at a time, and keep it at one layer at a time (``scorer``: as in
    :func:`ablate_slots`). The metric is generated for the full prefix, no prefix and the layers that matter
    with their prefix hidden."""
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
        without.append(score(~one, against=everything))
        only.append(score(one, against=~everything))
    result = LayerAblation(score.run.metric, full, none, without, only, rows=score.rows)
    for layer in result.layers_that_matter():
        one = torch.zeros(score.shape, dtype=torch.bool)
        one[layer] = True
        result.without[layer] = score(~one, True, against=everything)
    return result


def _reference(visible: torch.Tensor) -> tuple[str, int]:
    """Which reference pass ("full": every slot visible, "none": no slot) ``visible`` agrees with on the most
    of its lowest layers, and on how many."""

    def agreeing(value: bool) -> int:
        return int((visible == value).all(dim=1).int().cumprod(0).sum())

    full, none = agreeing(True), agreeing(False)
    return ("full", full) if full >= none else ("none", none)


def _padded_tokens(encoded: EncodedSplit, batch_size: int) -> int:
    lengths = [len(f["input_ids"]) for f in encoded.features]
    return padded_tokens(lengths, shortest_first(lengths, batch_size))  # as evaluate() batches them


def _number(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _measurable(gain: float, loss: float) -> bool:
    return gain > 1e-3 * abs(loss)
