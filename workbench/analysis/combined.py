"""The three analyses of a run together: what its prefix learned, as data, JSON and figures.

:func:`analyse` runs the slot ablation, the layer ablation and the slot readout on a
trained (or exported, reloaded) run, times each, checks that the run's prefix is
bit-identical afterwards, and returns an :class:`Analysis`; :func:`save_analysis`
writes ``analysis.json`` and one HTML figure per analysis into a folder (what
``prefix-workbench analyse --run DIR`` does). The panel's Analyse action and notebook 06
call :func:`analyse` too. Unless told how many rows to score, it fits them to the
machine: it times the full prefix's pass over 16 validation rows and takes as many of
the first 64 as keep the planned loss passes near two minutes (all 64 on a GPU or a
small model, 16 on a 30-layer model on two CPU cores). It does not train, and it does
not run during training.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..jsonio import dumps
from .ablation import LayerAblation, Scorer, SlotAblation, ablate_layers, ablate_slots
from .readout import Readout, slot_readout

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["BUDGET_S", "ROWS", "Analysis", "analyse", "save_analysis"]

ROWS = (16, 64)  # the fewest and the most validation rows an analysis scores when not told how many
BUDGET_S = 120.0  # what its loss passes may take, about, before it scores fewer rows than the most


@dataclass
class Analysis:
    """Slot ablation, layer ablation and readout of one run, with the seconds each took."""

    slots: SlotAblation
    layers: LayerAblation
    readout: Readout
    seconds: dict[str, float] = field(default_factory=dict)
    step: int = 0
    rows: int = 0  # validation rows scored for the loss
    fitted: bool = False  # fewer rows than ROWS' most, to keep within BUDGET_S (ask for more with rows=)

    def summary(self) -> str:
        """Three lines a person can act on."""
        near = "; ".join(f"P{i}: {', '.join(t for t, _ in tokens[:3])}" for i, tokens in
                         enumerate(self.readout.overall[:4]))  # fmt: skip
        more = " …" if len(self.readout.overall) > 4 else ""
        return "\n".join([f"slots: {self.slots.suggestion()}", f"layers: {self.layers.summary()}",
                          f"nearest tokens ({self.readout.space}): {near}{more}"])  # fmt: skip

    def scope(self) -> str:
        """What was scored and how long each analysis took, in one line."""
        took = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        fitted = (f" (fitted to about {BUDGET_S / 60:.0f} minutes; ask for {ROWS[1]} rows to score more)"
                  if self.fitted else "")  # fmt: skip
        return f"{self.rows} validation rows{fitted}; {took}"

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "summary": self.summary(), "seconds": self.seconds, "rows": self.rows,
                "fitted": self.fitted, "slots": self.slots.to_dict(), "layers": self.layers.to_dict(),
                "readout": self.readout.to_dict()}  # fmt: skip


def analyse(run: Run, *, rows: int | None = None, metric_rows: int = 16, top: int = 5, vocab: int = 4096,
            progress: Callable[[str], None] | None = None) -> Analysis:  # fmt: skip
    """Slot ablation, layer ablation and readout of ``run``'s prefix on its validation rows.

    ``rows``: validation rows for the loss (None: fitted to :data:`BUDGET_S`, see the module's docstring);
    ``metric_rows``: rows generated for the headline metric (text models; 0 for loss only); ``top``/``vocab``:
    nearest tokens per slot among that many vocabulary entries.
    """
    with run.exclusive("analysing it"):  # the prefix must not move between two scores
        return _analyse(run, rows, metric_rows, top, vocab, progress or (lambda _: None))


def _analyse(
    run: Run, rows: int | None, metric_rows: int, top: int, vocab: int, tell: Callable[[str], None]
) -> Analysis:
    before = _trainable_state(run.live_model)
    seconds: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        tell(f"{name} …")
        start = time.perf_counter()
        result = fn()
        seconds[name] = round(time.perf_counter() - start, 2)
        return result

    # One scorer for both ablations: the full prefix and no prefix are scored once.
    score = Scorer(run, rows, metric_rows) if rows is not None else _fitted_scorer(run, metric_rows, tell)
    planned = _planned(score)
    start = time.perf_counter()

    def told(text: str) -> None:
        tell(f"{text}{_time_left(time.perf_counter() - start, score.work, planned)}")

    slots_ = timed("slot ablation", lambda: ablate_slots(run, progress=told, scorer=score))
    layers_ = timed("layer ablation", lambda: ablate_layers(run, progress=told, scorer=score))
    readout = timed("readout", lambda: slot_readout(run.live_model, run.tokenizer, objective=run.objective, top=top,
                                                    vocab=vocab, seed=run.config.train.seed))  # fmt: skip
    after = _trainable_state(run.live_model)
    if any(not torch.equal(before[name], after[name]) for name in before):
        raise RuntimeError("the analysis changed the run's prefix; please report this as a bug")
    fitted = rows is None and score.rows < min(ROWS[1], len(run.data.validation))
    return Analysis(slots_, layers_, readout, seconds, step=run.history.last_step, rows=score.rows, fitted=fitted)


def _planned(score: Scorer) -> float:
    """The loss passes planned, in :meth:`Scorer.cost`'s units: the slot ablation's at most (2 + 2P), the layer
    ablation's 2 per layer, each skipping the layers below its own (replayed); generation is left out."""
    layers, slots = score.shape
    return score.cost() * (2 + 2 * slots) + sum(2 * score.cost(layer) for layer in range(layers))


def _fitted_scorer(run: Run, metric_rows: int, tell: Callable[[str], None]) -> Scorer:
    """A scorer on as many of the first ``ROWS[1]`` validation rows as keep the planned passes near BUDGET_S,
    from the pace of the full prefix's pass over ``ROWS[0]`` (a pass that is kept: the analysis needs it)."""
    fewest, most = ROWS
    probe = Scorer(run, fewest, metric_rows)
    if probe.rows >= len(run.data.validation):
        return probe  # no more rows to take
    tell(f"timing a pass over {fewest} rows to fit the rows to the time")
    start = time.perf_counter()
    probe(probe.visible(range(probe.shape[1])))
    projected = (time.perf_counter() - start) * _planned(probe) / probe.cost()
    fit = min(most, int(fewest * BUDGET_S / max(projected, 1e-6)))  # a pass's time grows with its rows
    return probe if fit <= fewest else Scorer(run, fit, metric_rows)


def save_analysis(analysis: Analysis, folder: str | Path) -> list[Path]:
    """Write ``analysis.json`` and ``slot-ablation.html``, ``layer-ablation.html``, ``readout.html``; the paths."""
    from .. import plots
    from ..rundir import write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {"slot-ablation": plots.slot_ablation_figure(analysis.slots),
               "layer-ablation": plots.layer_ablation_figure(analysis.layers),
               "readout": plots.readout_figure(analysis.readout)}  # fmt: skip
    written = [write_text(folder / "analysis.json", dumps(analysis.to_dict(), indent=1) + "\n")]
    for name, figure in figures.items():
        written.append(write_text(folder / f"{name}.html", figure.to_html(include_plotlyjs="cdn")))
    return written


def _time_left(elapsed: float, done: float, planned: float) -> str:
    """ " · about 1 min 20 s left", from the pace so far (nothing before the first pass or past the plan)."""
    if done <= 0 or done >= planned or elapsed < 1:
        return ""
    left = round(elapsed * (planned - done) / done)
    return f" · about {left // 60} min {left % 60} s left" if left >= 60 else f" · about {left} s left"


def _trainable_state(model: Any) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
