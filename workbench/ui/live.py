"""Charts that redraw while a run trains, and a throttle so drawing never slows training.

How a live plotly chart is drawn is a deliberate choice (see the field notes):
``"widget"`` uses ``plotly.graph_objects.FigureWidget`` (plotly ≥ 6 builds it on
anywidget) and copies new data into the traces it already shows, which updates in
place from a background thread in JupyterLab. ``"static"`` re-renders the figure
into an ``ipywidgets.Output`` by replacing its outputs (a thread-safe trait set,
unlike ``with out:``), as the plotly mimetype plus HTML: this works in Colab, in
VS Code and in a saved notebook, where FigureWidget has had blank-output reports.
``"auto"`` picks widget where anywidget is importable and the page is not Colab.
Nothing here knows about runs (:mod:`.panel` feeds it figures).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time

import ipywidgets as w
import plotly.graph_objects as go

from .colab import in_colab

__all__ = ["LiveFigure", "Throttle", "chart_mode"]

CHART_MODES = ("auto", "widget", "static")


def chart_mode(requested: str = "auto") -> str:
    """Resolve ``auto`` to ``widget`` or ``static`` for this environment."""
    if requested not in CHART_MODES:
        raise ValueError(f"charts must be one of {', '.join(CHART_MODES)}, got {requested!r}")
    if requested != "auto":
        return requested
    if in_colab() or importlib.util.find_spec("anywidget") is None:
        return "static"
    return "widget"


class LiveFigure:
    """One chart; :meth:`show` replaces what it draws with a new figure of the same kind."""

    def __init__(self, figure: go.Figure, mode: str = "auto") -> None:
        self.mode = chart_mode(mode)
        self.figure = figure
        self.draws = 0
        if self.mode == "widget":
            self._fw = go.FigureWidget(figure)
            self.widget: w.Widget = self._fw
        else:
            self._out = w.Output(layout=w.Layout(width="100%"))
            self.widget = self._out
            self._render_static(figure)

    def show(self, figure: go.Figure) -> None:
        self.figure = figure
        self.draws += 1
        if self.mode == "widget":
            self._sync(figure)
        else:
            self._render_static(figure)

    def _sync(self, figure: go.Figure) -> None:
        fw = self._fw
        same_shape = len(fw.data) == len(figure.data) and all(a.type == b.type for a, b in zip(fw.data, figure.data))
        with fw.batch_update():
            if same_shape:
                for old, new in zip(fw.data, figure.data):
                    old.update(new.to_plotly_json(), overwrite=True)
            else:
                fw.data = ()
                fw.add_traces(list(figure.data))
            fw.layout.update(figure.layout.to_plotly_json(), overwrite=True)

    def _render_static(self, figure: go.Figure) -> None:
        spec = json.loads(figure.to_json())
        spec["config"] = {"displaylogo": False, "responsive": True}
        bundle = {
            "application/vnd.plotly.v1+json": spec,
            "text/html": figure.to_html(include_plotlyjs="cdn", full_html=False, default_height=figure.layout.height),
        }
        self._out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)


class Throttle:
    """``due()`` is true at most once per ``interval_s`` (always for ``force=True``); thread-safe.

    ``took(seconds)`` reports how long the throttled work took; with a ``budget`` the
    interval then stretches so that the work stays within that share of the wall time
    (a slow chart on a fast run is drawn less often instead of slowing training).
    """

    def __init__(self, interval_s: float, budget: float | None = None) -> None:
        self.interval_s = self.min_interval_s = interval_s
        self.budget = budget
        self._last = float("-inf")
        self._lock = threading.Lock()

    def took(self, seconds: float) -> None:
        if self.budget is None:
            return
        with self._lock:
            self.interval_s = max(self.min_interval_s, seconds / self.budget)

    def due(self, *, force: bool = False) -> bool:
        with self._lock:
            now = time.monotonic()
            if force or now - self._last >= self.interval_s:
                self._last = now
                return True
            return False
