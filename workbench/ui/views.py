"""The display parts of the panel: status and progress, settings info, samples, attention, runs.

Each view owns a few widgets and has one or two methods that take plain data (an
event, a probe result, a list of sample rows) and show it. Views never start,
stop or change runs; :mod:`.panel` decides what to show when. HTML is escaped
everywhere, since prompts and outputs are user text.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import ipywidgets as w

from .. import plots
from ..errors import WorkbenchError
from ..history import History, StepEvent
from ..metrics import METRICS
from .live import LiveFigure

if TYPE_CHECKING:  # these import torch; the views only show their results
    from ..attention import ProbeResult
    from ..evaluate import EvalResult
    from ..prefix import Finding, ParameterCounts

__all__ = ["AttentionView", "InfoView", "ProgressView", "ResultsView", "RunsView", "SamplesView"]

COLORS = {"error": "#b00020", "warning": "#9a6700", "info": "#555", "ok": "#1a7f37"}
_log = logging.getLogger(__name__)
_TABLE = "border-collapse:collapse;font-size:12px;width:100%"
_MEAN = -1  # the attention view's "mean of heads"
_CELL = "border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;white-space:pre-wrap"


def say_failure(say: Callable[[str, str], None], what: str, exc: Exception) -> None:
    """Show a failure in place as one line: a WorkbenchError as it is, anything else with its traceback logged."""
    if isinstance(exc, WorkbenchError):
        say(str(exc), "error")
    else:
        _log.error("%s failed", what, exc_info=exc)
        say(f"unexpected {type(exc).__name__}: {exc}", "error")


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A small HTML table, every cell escaped (cells are user text)."""
    head = "".join(f"<th style='{_CELL};background:#f6f8fa'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table style='{_TABLE}'><tr>{head}</tr>{body}</table>"


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else (
        f"{seconds // 60}:{seconds % 60:02d}")  # fmt: skip


class ProgressView:
    """A progress bar, a one-line progress text, and a status line for messages and errors."""

    def __init__(self) -> None:
        self.bar = w.IntProgress(value=0, min=0, max=1, layout=w.Layout(width="100%"))
        self.line = w.HTML("<span style='color:#555'>ready</span>")
        self.status = w.HTML("")
        self.box = w.VBox([self.bar, self.line, self.status], layout=w.Layout(width="100%"))

    def step(self, event: StepEvent, since: tuple[int, float] = (0, 0.0), *, evaluating: bool = False) -> None:
        """Show ``event``; ``since`` is the (step, elapsed seconds) this session began at (a resumed run);
        ``evaluating``: an evaluation follows this step (the line would otherwise stand still through it)."""
        total = max(event.total_steps, 1)
        self.bar.max, self.bar.value = total, min(event.step, total)
        steps, seconds = max(event.step - since[0], 1), event.elapsed_s - since[1]
        eta = seconds / steps * (total - event.step) if seconds > 0 else 0.0
        parts = [f"step {event.step}/{total}", f"loss {event.loss:.4f}", f"{event.tokens_per_s:,.0f} tok/s",
                 f"elapsed {_clock(event.elapsed_s)}", f"ETA {_clock(eta)}"]  # fmt: skip
        if event.memory_mb:
            parts.append(f"GPU memory {event.memory_mb / 1024:.2f} GB")
        if event.starved:
            parts.append("starved of CPU: another process is busy")
        elif event.threads:
            parts.append(f"another process is busy: training on {event.threads} thread(s)")
        if evaluating:
            parts.append("evaluating …")
        self.line.value = f"<code>{html.escape(' · '.join(parts))}</code>"

    def say(self, message: str, level: str = "info") -> None:
        """Show ``message`` in place (``level``: ok, info, warning, error); empty clears it."""
        color = COLORS.get(level, "#555")
        self.status.value = f"<span style='color:{color}'>{html.escape(message)}</span>" if message else ""


class InfoView:
    """What the current settings mean: data preview, trainable parameters, compatibility findings."""

    def __init__(self) -> None:
        self.preview = w.HTML("")
        self.counts = w.HTML("")
        self.findings = w.HTML("")
        self.box = w.VBox([self.counts, self.findings, self.preview], layout=w.Layout(width="100%"))

    def show_preview(self, rows: Sequence[tuple[str, str]], kind: str) -> None:
        self.preview.value = f"<b>data preview</b> ({html.escape(kind)})" + html_table(
            ["input", "expected output"], rows
        )

    def show_counts(self, counts: ParameterCounts) -> None:
        self.counts.value = (
            f"<b>trainable</b> {counts.trainable:,} parameters ({counts.trainable_percent:.3f}% of the base "
            f"{counts.base:,}); the adapter stores {counts.stored:,}"
        )

    def show_findings(self, findings: Sequence[Finding]) -> None:
        self.findings.value = "<br>".join(
            f"<span style='color:{COLORS[f.level]}'>{f.level}: {html.escape(f.message)}</span>" for f in findings
        )

    def show_loading(self, message: str) -> None:
        self.counts.value = f"<span style='color:{COLORS['info']}'>{html.escape(message)}</span>"

    def show_problem(self, message: str) -> None:
        self.counts.value = f"<span style='color:{COLORS['error']}'>{html.escape(message)}</span>"
        self.findings.value = ""


class SamplesView:
    """Base model vs prefix-tuned output on the same prompts."""

    def __init__(self) -> None:
        self.table = w.HTML("<i>samples appear at the first evaluation</i>")
        self.box = w.VBox([w.HTML("<b>samples</b>"), self.table], layout=w.Layout(width="100%"))

    def show(self, samples: Sequence[Mapping[str, str]], base: Sequence[str] | None, step: int) -> None:
        rows = [
            (s["input"], base[i] if base and i < len(base) else "", s["output"], s["reference"])
            for i, s in enumerate(samples)
        ]
        self.table.value = f"<div>step {step}</div>" + html_table(
            ["input", "base model (no prefix)", "with the prefix", "reference"], rows
        )


class ResultsView:
    """A run's final evaluation: its metrics, and a confusion matrix or predicted-vs-true scatter."""

    def __init__(self, mode: str) -> None:
        self.summary = w.HTML("<i>the final evaluation appears when a run ends</i>")
        self.chart = LiveFigure(plots.regression_figure([], []), mode)
        # Hidden until there is something to draw (a FigureWidget's own .layout is plotly's, not a widget's).
        self.holder = w.Box([self.chart.widget], layout=w.Layout(width="100%", display="none"))
        self.box = w.VBox([self.summary, self.holder], layout=w.Layout(width="100%"))

    def show(self, result: EvalResult | None, split: str) -> None:
        if result is None:
            return
        cells = []
        for name, value in result.metrics.items():
            lower = name in METRICS and not METRICS[name].higher_is_better
            cells.append((name + (" (lower is better)" if lower else ""), f"{value:.4f}"))
        self.summary.value = (
            f"<div>{html.escape(split)}: {len(result.rows)} rows</div>"
            + html_table(["metric", "value"], cells)
            + _report_text(result.report.get("text", ""))
        )
        from ..report import report_figure

        figure = report_figure(result, split=split)
        if figure is not None:
            self.chart.show(figure)
        self.holder.layout.display = None if figure is not None else "none"


def _report_text(text: str) -> str:
    """A per-label (per-type) report as the terminal prints it; folded when long (77 intents are 80 lines)."""
    if not text:
        return ""
    folded = "" if text.count("\n") < 40 else " (click to open)"
    return (
        f"<details{'' if folded else ' open'}><summary>per-label report{folded}</summary>"
        f"<pre style='font-size:11px'>{html.escape(text)}</pre></details>"
    )


class AttentionView:
    """Layer × head share on the prefix, and the per-token map of a chosen layer and head."""

    def __init__(self, mode: str) -> None:
        self.probe: ProbeResult | None = None
        self.share = LiveFigure(plots.prefix_share_figure(None), mode)
        self.tokens = LiveFigure(plots.token_attention_figure(None), mode)
        self.layer = w.Dropdown(options=[("last", -1)], value=-1, description="layer", layout=w.Layout(width="160px"))
        # "mean" is -1, not None: a Dropdown reads None as "nothing chosen" and shows a blank once its options change.
        self.head = w.Dropdown(options=[("mean", _MEAN)], value=_MEAN, description="head",
                               layout=w.Layout(width="160px"))  # fmt: skip
        self.layer.observe(self._redraw_tokens, names="value")
        self.head.observe(self._redraw_tokens, names="value")
        left = w.VBox([self.share.widget], layout=w.Layout(width="40%"))
        right = w.VBox([w.HBox([self.layer, self.head]), self.tokens.widget], layout=w.Layout(width="60%"))
        self.status = w.HTML("")  # why the maps above are not of the latest evaluation, when they are not
        self.box = w.VBox([self.status, w.HBox([left, right], layout=w.Layout(width="100%"))],
                          layout=w.Layout(width="100%"))  # fmt: skip

    def say(self, message: str) -> None:
        self.status.value = f"<span style='color:{COLORS['warning']}'>{html.escape(message)}</span>"

    def materialize(self) -> None:
        """Make both charts now, so that the first probe shown is an update, which fits them to their column."""
        self.share.materialize()
        self.tokens.materialize()

    def show(self, probe: ProbeResult) -> None:
        layers, heads = probe.share.shape
        if len(self.layer.options) != layers + 1:
            self.layer.options = [("last", -1)] + [(str(i), i) for i in range(layers)]
        if len(self.head.options) != heads + 1:
            self.head.options = [("mean", _MEAN)] + [(str(i), i) for i in range(heads)]
        self.probe = probe
        self.status.value = ""
        self.share.show(plots.prefix_share_figure(probe))
        self._redraw_tokens()

    def _redraw_tokens(self, _change: object = None) -> None:
        if self.probe is not None:
            head = None if self.head.value == _MEAN else self.head.value
            self.tokens.show(plots.token_attention_figure(self.probe, layer=self.layer.value, head=head))


class RunsView:
    """Earlier runs of this panel, selectable, overlaid in one chart: their losses, or their learning curves
    (the metric against steps and against seconds of training)."""

    def __init__(self, mode: str) -> None:
        self.chart = LiveFigure(plots.overlay_figure({}), mode)
        self.select = w.SelectMultiple(options=[], rows=4, description="overlay", layout=w.Layout(width="100%"))
        self.curves = w.ToggleButtons(options=[("loss", False), ("metric", True)], value=False,
                                      style={"button_width": "70px"})  # fmt: skip
        self._histories: dict[str, History] = {}
        self.select.observe(lambda _c: self.redraw(), names="value")
        self.curves.observe(lambda _c: self.redraw(), names="value")
        self.box = w.VBox([w.HBox([self.select, self.curves]), self.chart.widget], layout=w.Layout(width="100%"))

    def show(self, histories: Mapping[str, History]) -> None:
        """Offer ``histories``; newly added runs are selected."""
        new = [label for label in histories if label not in self._histories]
        self._histories = dict(histories)
        chosen = [v for v in self.select.value if v in histories] + new
        self.select.options = list(histories)
        self.select.value = tuple(chosen)
        self.redraw()

    def redraw(self) -> None:
        chosen = {k: self._histories[k] for k in self.select.value if k in self._histories}
        if not self.curves.value:
            self.chart.show(plots.overlay_figure(chosen, title=f"Runs ({len(chosen)} overlaid)"))
            return
        # The first chosen run's metric; runs that report another are left out, and the title says how many.
        metric = next((h.headline for h in chosen.values() if h.headline), None) or "metric"
        curves = {k: h.curve(metric) for k, h in chosen.items() if h.headline == metric}
        other = f", {len(chosen) - len(curves)} with another metric left out" if len(curves) < len(chosen) else ""
        self.chart.show(plots.curves_figure(curves, metric, title=f"Runs ({len(curves)} overlaid{other})"))
