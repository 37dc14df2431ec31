"""Plotly figures of runs and probes: pure functions, data in, figure out.

Loss curves (train loss raw and smoothed, validation loss, learning rate on a
second axis, the task metric below), overlays of several runs, the layer × head
share of attention on the prefix, the per-token attention map with its ``P0…``
key labels, how attention on the prefix moves over training, and what the prefix
learned (:mod:`workbench.analysis`: slot and layer ablation bars, nearest tokens). Every figure
has the same traces whatever the data (empty ones while a run has none yet), so a
live chart can copy new data into the traces it already shows. Nothing here draws
widgets or knows about notebooks (:mod:`workbench.ui`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .history import CurvePoint, History
from .metrics import METRICS

if TYPE_CHECKING:  # the probe and the analyses import torch; a figure needs only their numbers
    from .analysis import LayerAblation, Readout, SlotAblation
    from .attention import ProbeResult

__all__ = [
    "attention_over_training",
    "comparison_figure",
    "confusion_figure",
    "curves_figure",
    "layer_ablation_figure",
    "loss_figure",
    "metrics_figure",
    "overlay_figure",
    "prefix_share_figure",
    "readout_figure",
    "regression_figure",
    "slot_ablation_figure",
    "smooth",
    "token_attention_figure",
]

_HEIGHT = 340
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
_MARGIN = {"l": 55, "r": 55, "t": 40, "b": 40}
_MAX_POINTS = 2000  # per step series; more only weighs on the browser and the comm, not the picture
_COLORBAR = {"outlinewidth": 0, "ticks": ""}  # as plotly_white draws heatmap colour bars


def smooth(values: Sequence[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (TensorBoard-style); NaNs pass through."""
    out, avg, n = [], 0.0, 0
    for v in values:
        if not np.isfinite(v):
            out.append(float("nan"))
            continue
        n += 1
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight**n))
    return out


def _metric_title(metric: str | None) -> str:
    if metric is None:
        return "metric"
    known = METRICS.get(metric.rsplit("/", 1)[-1])
    return f"{metric} (lower is better)" if known and not known.higher_is_better else metric


def loss_figure(
    history: History,
    *,
    title: str = "Training",
    metric: str | None = None,
    max_points: int = _MAX_POINTS,
    first_eval: int | None = None,
) -> go.Figure:
    """Train loss (raw, smoothed), validation loss, lr (right axis); the task metric in a lower panel.

    A long run's step series are thinned to ``max_points`` evenly spaced steps (the last one
    always kept), after smoothing over every step: a live chart stays light at 10,000 steps.
    Until the metric has a point, its panel says when the first comes (``first_eval``, a step).
    """
    metric = metric or history.headline
    keep = _thin(len(history.steps), max_points)
    smoothed = smooth(history.losses())
    kept = [history.steps[i] for i in keep]
    steps, losses = [s.step for s in kept], [s.loss for s in kept]
    evals = history.evals
    scored = [e for e in evals if metric in e.metrics]
    # Two panels sharing x: loss (y, lr on y2 at the right) above, the metric (x2, y3) below.
    traces = [
        go.Scatter(x=steps, y=losses, name="train loss", mode="lines", line={"color": _COLORS[0], "width": 1},
                   opacity=0.3),
        go.Scatter(x=steps, y=[smoothed[i] for i in keep], name="train (smoothed)", mode="lines",
                   line={"color": _COLORS[0], "width": 2}),
        go.Scatter(x=[e.step for e in evals], y=[e.loss for e in evals], name="validation loss",
                   mode="lines+markers", line={"color": _COLORS[1]}),
        go.Scatter(x=steps, y=[s.lr for s in kept], name="learning rate", mode="lines", yaxis="y2",
                   line={"color": "#999", "dash": "dot", "width": 1}),
        go.Scatter(x=[e.step for e in scored], y=[e.metrics[metric] for e in scored], name=metric or "metric",
                   mode="lines+markers", line={"color": _COLORS[2]}, xaxis="x2", yaxis="y3"),
    ]  # fmt: skip
    waiting = (
        []
        if evals or first_eval is None
        else [
            {
                "text": f"first evaluation at step {first_eval}",
                "xref": "x2 domain",
                "yref": "y3 domain",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"color": "#888"},
            }
        ]
    )
    return _figure(traces, title=title, height=_HEIGHT + 60, legend={"orientation": "h", "y": -0.18, "x": 0},
                   annotations=waiting,
                   xaxis={"anchor": "y", "domain": [0, 0.94], "matches": "x2", "showticklabels": False},
                   yaxis={"anchor": "x", "domain": [0.34, 1], "title": "loss"},
                   yaxis2={"anchor": "x", "overlaying": "y", "side": "right", "title": "lr", "showgrid": False,
                           "exponentformat": "e"},
                   xaxis2={"anchor": "y3", "domain": [0, 0.94], "title": "step"},
                   yaxis3={"anchor": "x2", "domain": [0, 0.28], "title": _metric_title(metric),
                           "showticklabels": bool(scored)})  # fmt: skip


def overlay_figure(
    histories: Mapping[str, History], *, title: str = "Runs", max_points: int = _MAX_POINTS
) -> go.Figure:
    """Several runs in one chart: smoothed train loss (solid) and validation loss (dotted) per run."""
    traces = []
    for i, (label, history) in enumerate(histories.items()):
        color = _COLORS[i % len(_COLORS)]
        keep, smoothed = _thin(len(history.steps), max_points), smooth(history.losses())
        traces.append(go.Scatter(x=[history.steps[k].step for k in keep], y=[smoothed[k] for k in keep], name=label,
                                 mode="lines", line={"color": color}, legendgroup=label))  # fmt: skip
        traces.append(go.Scatter(x=[e.step for e in history.evals], y=[e.loss for e in history.evals],
                                 name=f"{label} (val)", mode="lines+markers", legendgroup=label,
                                 line={"color": color, "dash": "dot"}, showlegend=False))  # fmt: skip
    return _figure(traces, title=title, xaxis={"title": "step"},
                   yaxis={"title": "loss (smoothed; dotted: validation)"})  # fmt: skip


def curves_figure(
    curves: Mapping[str, Sequence[CurvePoint]], metric: str, *, title: str = "Learning curves"
) -> go.Figure:
    """Each method's (or run's) metric over training: against steps on the left, against seconds of training
    on the right (:meth:`History.curve`), so methods of unequal step cost are compared at equal time too."""
    traces = []
    for i, (label, points) in enumerate(curves.items()):
        style = {
            "name": label,
            "legendgroup": label,
            "mode": "lines+markers",
            "line": {"color": _COLORS[i % len(_COLORS)]},
        }
        values = [p.value for p in points]
        traces.append(go.Scatter(x=[p.step for p in points], y=values, **style))
        traces.append(go.Scatter(x=[p.seconds for p in points], y=values, xaxis="x2", showlegend=False, **style))
    return _figure(traces, title=title, legend={"orientation": "h", "y": -0.2, "x": 0},
                   xaxis={"domain": [0, 0.47], "title": "step"},
                   xaxis2={"domain": [0.53, 1], "anchor": "y", "title": "seconds of training"},
                   yaxis={"title": _metric_title(metric)})  # fmt: skip


def metrics_figure(
    history: History, names: Sequence[str] | None = None, *, title: str = "Metrics over training"
) -> go.Figure:
    """One line per metric over the evaluations (default: every per-task metric a mixture reports)."""
    if names is None:
        names = list(dict.fromkeys(k for e in history.evals for k in e.metrics if "/" in k))
    traces = []
    for i, name in enumerate(names):
        scored = [e for e in history.evals if name in e.metrics]
        traces.append(go.Scatter(x=[e.step for e in scored], y=[e.metrics[name] for e in scored],
                                 name=_metric_title(name), mode="lines+markers",
                                 line={"color": _COLORS[i % len(_COLORS)]}))  # fmt: skip
    return _figure(traces, title=title, xaxis={"title": "step"}, yaxis={"title": "value"})


def prefix_share_figure(probe: ProbeResult | None, *, title: str | None = None) -> go.Figure:
    """Layer × head heatmap of the share of attention on the prefix slots (0-1)."""
    z = probe.share if probe is not None else np.zeros((0, 0))
    layers, heads = z.shape
    heatmap = go.Heatmap(
        z=z, x=[f"H{h}" for h in range(heads)], y=[f"L{layer}" for layer in range(layers)],
        zmin=0, zmax=1, colorscale="Viridis", colorbar={**_COLORBAR, "title": "on prefix"},
        hovertemplate="layer %{y}, head %{x}: %{z:.2f} of attention on the prefix<extra></extra>",
    )  # fmt: skip
    step = f" (step {probe.step})" if probe is not None else ""
    return _figure([heatmap], title=title or f"Attention on the prefix{step}", xaxis={"title": "head"},
                   yaxis={"title": "layer"})  # fmt: skip


def token_attention_figure(probe: ProbeResult | None, *, layer: int = -1, head: int | None = None) -> go.Figure:
    """Queries × keys for one example: keys are the prefix slots P0… then the tokens.

    ``head=None`` averages the heads of ``layer``.
    """
    if probe is None:
        z, keys, queries, where = np.zeros((0, 0)), [], [], ""
    else:
        maps = probe.per_token[layer]  # [heads, queries, prefix + keys]
        z = maps.mean(0) if head is None else maps[head]
        layer_no = layer % probe.per_token.shape[0]
        where = f" — layer {layer_no}, {'mean of heads' if head is None else f'head {head}'}"
        # Plotly merges equal category labels; number the tokens to keep every column.
        keys = probe.key_labels[: probe.prefix_length] + [
            f"{t} ·{i}" for i, t in enumerate(probe.key_labels[probe.prefix_length :])
        ]
        queries = [f"{t} ·{i}" for i, t in enumerate(probe.query_labels)]
    heatmap = go.Heatmap(
        z=z, x=keys, y=queries, colorscale="Blues", zmin=0, colorbar={**_COLORBAR, "title": "weight"},
        hovertemplate="query %{y} → key %{x}: %{z:.3f}<extra></extra>",
    )  # fmt: skip
    n_prefix = probe.prefix_length if probe is not None else 0
    # A red line between the last prefix slot and the first token (x in category units, y across the plot).
    boundary = {"type": "line", "x0": n_prefix - 0.5, "x1": n_prefix - 0.5, "xref": "x", "y0": 0, "y1": 1,
                "yref": "y domain", "line": {"color": "#d62728", "width": 2}}  # fmt: skip
    return _figure([heatmap], title=f"Per-token attention{where}", height=_HEIGHT + 60,
                   margin={**_MARGIN, "b": 80}, shapes=[boundary] if n_prefix else [],
                   xaxis={"title": "key (prefix slots, then tokens)", "tickangle": -60},
                   yaxis={"title": "query", "autorange": "reversed"})  # fmt: skip


def attention_over_training(probes: Sequence[ProbeResult]) -> go.Figure:
    """Share of attention on the prefix per layer (mean over heads), one line per layer, over steps."""
    traces = []
    if probes:
        share = np.stack([p.layer_share for p in probes])  # [probes, layers]
        steps = [p.step for p in probes]
        colors = [_COLORS[layer % len(_COLORS)] for layer in range(share.shape[1])]
        traces = [go.Scatter(x=steps, y=share[:, layer], name=f"layer {layer}", mode="lines+markers",
                             line={"color": color}) for layer, color in enumerate(colors)]  # fmt: skip
    return _figure(traces, title="Attention on the prefix over training", xaxis={"title": "step"},
                   yaxis={"title": "share on prefix (mean of heads)", "range": [0, 1]})  # fmt: skip


def comparison_figure(results: Sequence[Any]) -> go.Figure:
    """Metric vs trainable parameters (log scale), one marker per method (:mod:`workbench.comparison`)."""
    traces = [
        go.Scatter(
            x=[r.trainable], y=[r.value], name=r.method.label, mode="markers+text", text=[r.method.label],
            textposition="top center", marker={"size": 11, "color": _COLORS[i % len(_COLORS)]},
            hovertemplate=(f"{r.method.label}<br>%{{x:,}} trainable<br>{r.metric} %{{y:.3f}}<br>"
                           f"{r.stored_bytes / 1024:.1f} kB stored, {r.train_s:.0f} s ({r.step_s:.2f} s a step), "
                           f"{r.memory_bytes / 2**20:.0f} MB a step, {r.examples} rows<extra></extra>"),
        )
        for i, r in enumerate(results)
    ]  # fmt: skip
    metric = results[0].metric if results else "metric"
    return _figure(traces, title="Methods on the same data and budget", height=_HEIGHT + 120, showlegend=False,
                   xaxis={"title": "trainable parameters", "type": "log"},
                   yaxis={"title": _metric_title(metric)})  # fmt: skip


_CONFUSION_NUMBERED = 20  # labels: up to this many, each cell shows its count


def confusion_figure(report: Mapping[str, Any], *, title: str = "Confusion matrix") -> go.Figure:
    """True label (rows) × predicted label (columns) counts, from a classification report.

    With many labels (77 intents) the labels are sorted by their mistakes, most first, so the confusions gather
    in the top left; cells carry no numbers (hover shows them) and the title names the worst pair."""
    labels, z = list(report.get("labels", [])), np.array(report.get("confusion", []), dtype=float)
    many = len(labels) > _CONFUSION_NUMBERED
    if many and z.size:
        errors = z.sum(0) + z.sum(1) - 2 * np.diag(z)  # as the true label and as the prediction
        order = np.argsort(-errors, kind="stable")
        z, labels = z[np.ix_(order, order)], [labels[i] for i in order]
        if report.get("confused"):
            true, predicted, count = report["confused"][0]
            title = f"{title}: most confused {true} → {predicted} ({count})"
    heatmap = go.Heatmap(
        z=z, x=labels, y=labels, colorscale="Blues", zmin=0, colorbar={**_COLORBAR, "title": "rows"},
        texttemplate="" if many else "%{z:.0f}", hovertemplate="true %{y} → predicted %{x}: %{z:.0f}<extra></extra>",
    )  # fmt: skip
    return _figure([heatmap], title=title, height=900 if many else _HEIGHT, xaxis={"title": "predicted"},
                   yaxis={"title": "true", "autorange": "reversed"})  # fmt: skip


def regression_figure(true: Sequence[float], predicted: Sequence[float | None], *,
                      title: str = "Predicted vs true") -> go.Figure:  # fmt: skip
    """One marker per row (outputs with no number left out), and the line where they would be equal."""
    pairs = [(t, p) for t, p in zip(true, predicted) if p is not None and np.isfinite(p)]
    xs, ys = [t for t, _ in pairs], [p for _, p in pairs]
    lo, hi = (min(xs + ys), max(xs + ys)) if pairs else (0.0, 1.0)
    traces = [
        go.Scatter(x=[lo, hi], y=[lo, hi], name="predicted = true", mode="lines",
                   line={"color": "#999", "dash": "dot"}),
        go.Scatter(x=xs, y=ys, name="rows", mode="markers", marker={"color": _COLORS[0], "opacity": 0.7},
                   hovertemplate="true %{x:.3g}, predicted %{y:.3g}<extra></extra>"),
    ]  # fmt: skip
    missed = len(true) - len(pairs)
    note = f" ({missed} without a number)" if missed else ""
    return _figure(traces, title=title + note, xaxis={"title": "true"}, yaxis={"title": "predicted"})


def slot_ablation_figure(result: SlotAblation) -> go.Figure:
    """Loss with each slot hidden, sorted (costliest first), against the full prefix and no prefix."""
    order = result.order
    bars = go.Bar(
        x=[f"P{s}" for s in order], y=[result.without[s].loss for s in order], name="slot hidden",
        error_y=_spread([result.without[s] for s in order]),
        marker={"color": [_COLORS[1] if s in result.effective else _COLORS[0] for s in order]},
        customdata=[_metric_text(result.without[s].metric, result.metric) for s in order],
        hovertemplate="%{x} hidden: loss %{y:.4f}%{customdata}<extra></extra>",
    )  # fmt: skip
    return _figure([bars], title=f"Slot ablation — {result.suggestion()}", height=_HEIGHT + 40,
                   shapes=_reference_lines(result.full.loss, result.none.loss),
                   annotations=_reference_labels(result.full.loss, result.none.loss),
                   xaxis={"title": "prefix slot hidden at every layer (red: the effective slots)"},
                   yaxis={"title": f"validation loss ({result.rows} rows)"}, showlegend=False)  # fmt: skip


def _spread(scores: Sequence[Any]) -> dict[str, Any]:
    """Error bars: each variant's standard error against its reference (the paired per-row difference)."""
    return {"type": "data", "array": [s.se or 0.0 for s in scores], "visible": True, "thickness": 1}


def layer_ablation_figure(result: LayerAblation) -> go.Figure:
    """Per layer: loss with that layer's prefix hidden, and with only that layer's prefix kept."""
    layers = [f"L{i}" for i in range(len(result.without))]
    traces = [
        go.Bar(x=layers, y=[s.loss for s in scores], name=name, marker={"color": color}, error_y=_spread(scores),
               customdata=[_metric_text(s.metric, result.metric) for s in scores],
               hovertemplate="%{x}: loss %{y:.4f}%{customdata}<extra>" + name + "</extra>")
        for name, scores, color in (("prefix hidden at this layer", result.without, _COLORS[1]),
                                    ("prefix only at this layer", result.only, _COLORS[2]))
    ]  # fmt: skip
    return _figure(traces, title=f"Layer ablation — {result.summary()}", height=_HEIGHT + 40, barmode="group",
                   shapes=_reference_lines(result.full.loss, result.none.loss),
                   annotations=_reference_labels(result.full.loss, result.none.loss),
                   xaxis={"title": "layer"}, yaxis={"title": f"validation loss ({result.rows} rows)"},
                   legend={"orientation": "h", "y": -0.25})  # fmt: skip


def readout_figure(readout: Readout) -> go.Figure:
    """A table: each slot's nearest tokens overall, and its nearest token at each layer."""
    layers = len(readout.by_layer)
    header = ["slot", "nearest overall (cosine)"] + ([f"L{i}" for i in range(layers)] if layers > 1 else [])
    columns = [[row["slot"] for row in readout.table()], [row["nearest"] for row in readout.table()]]
    if layers > 1:
        columns += [[f"{near[0][0]} ({near[0][1]:.2f})" for near in layer] for layer in readout.by_layer]
    table = go.Table(header={"values": header, "align": "left", "fill_color": "#f0f2f6"},
                     cells={"values": columns, "align": "left"},
                     columnwidth=[1, 6] + [2] * (len(header) - 2))  # fmt: skip
    space = "keys at each layer" if readout.space == "keys" else "input embeddings"
    return _figure([table], title=f"What each slot resembles: nearest tokens by {space} "
                   f"({readout.vocab} of {readout.vocab_size} tokens)",
                   height=min(120 + 28 * len(columns[0]), 900))  # fmt: skip


def _metric_text(value: float | None, metric: str) -> str:
    return f", {metric} {value:.3f}" if value is not None else ""


def _reference_lines(full: float, none: float) -> list[dict[str, Any]]:
    return [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
             "line": {"color": color, "dash": "dash", "width": 1.5}}
            for y, color in ((full, _COLORS[2]), (none, "#555"))]  # fmt: skip


def _reference_labels(full: float, none: float) -> list[dict[str, Any]]:
    return [{"xref": "paper", "x": 1, "y": y, "text": text, "showarrow": False, "xanchor": "right",
             "yanchor": "bottom", "font": {"size": 11, "color": "#555"}}
            for y, text in ((full, f"full prefix {full:.3f}"), (none, f"no prefix {none:.3f}"))]  # fmt: skip


def _thin(n: int, max_points: int) -> list[int]:
    """At most ``max_points`` evenly spaced indices of ``range(n)``, the first and the last among them."""
    if n <= max_points:
        return list(range(n))
    stride = (n - 1) / max(max_points - 1, 1)
    return sorted({round(k * stride) for k in range(max_points)})


@cache
def _template() -> go.layout.Template:
    # plotly_white's layout only: its per-trace defaults cover two dozen trace types, and validating them
    # was most of the cost of every figure (a live chart builds one per redraw).
    return go.layout.Template(layout=pio.templates["plotly_white"].layout)


def _figure(traces: Sequence[Any], *, title: str, height: int = _HEIGHT, **layout: Any) -> go.Figure:
    """The figure, validated once, in the workbench's look."""
    layout = {"margin": _MARGIN, **layout, "title": title, "height": height, "template": _template()}
    return go.Figure(data=list(traces), layout=layout)
