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
from functools import cache

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs_version

from .colab import in_colab

__all__ = ["LiveFigure", "Throttle", "chart_mode"]

CHART_MODES = ("auto", "widget", "static")
_CONFIG = {"displaylogo": False, "responsive": True}


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
    """One chart; :meth:`show` replaces what it draws with a new figure of the same kind.

    Widget mode sends only what changed since the last figure shown (new points, a new
    title), so a redraw costs little and a zoom the user made survives it. ``widget`` is a
    box that layouts place at once; the chart in it (``view``: a FigureWidget or an
    Output) is made on first use or by :meth:`materialize` — making the first one imports
    plotly's renderers, about a second, which a panel spends after it is on the page.
    """

    def __init__(self, figure: go.Figure, mode: str = "auto") -> None:
        self.mode = chart_mode(mode)
        self.figure = figure
        self.draws = 0
        self.widget = w.VBox(layout=w.Layout(width="100%"))  # a column: the chart stretches to its width
        self._view: w.Widget | None = None
        self._making = threading.Lock()

    @property
    def view(self) -> w.Widget:
        """The chart widget itself (made now if it was not yet)."""
        with self._making:
            if self._view is None:
                if self.mode == "widget":
                    self._fw = go.FigureWidget(self.figure)
                    self._fw._config = _CONFIG  # responsive: plotly.js resizes the chart with the window
                    self._shown = self.figure.to_plotly_json()
                    self._zoomed = False
                    self._sized = False
                    self._fw.observe(self._on_relayout, names="_js2py_relayout")
                    self._view = self._fw
                    self._sync(self.figure)  # the x ranges that follow the data
                else:
                    self._out = w.Output(layout=w.Layout(width="100%"))
                    self._view = self._out
                    self._render_static(self.figure)
                self.widget.children = (self._view,)
            return self._view

    def materialize(self) -> None:
        """Make the chart widget now (from a background thread, say), showing the latest figure."""
        self.view  # noqa: B018 - made on access

    def show(self, figure: go.Figure) -> None:
        self.figure = figure
        self.draws += 1
        fresh = self._view is None
        self.view  # noqa: B018 - a chart made now already draws ``figure``
        if fresh:
            return
        if self.mode == "widget":
            self._sync(figure)
        else:
            self._render_static(figure)

    def _on_relayout(self, change: dict) -> None:
        # A zoom or pan in the browser sets an axis range: stop following. A double-click autoranges: follow.
        keys = (change["new"] or {}).get("relayout_data", {})
        if any(k.endswith("autorange") and v for k, v in keys.items()):
            self._zoomed = False
        elif any(".range" in k for k in keys):
            self._zoomed = True

    def _follow(self, new: dict) -> None:
        """Give numeric x axes the range of their data (the user's range while zoomed), in ``new``'s layout.

        plotly.js keeps a range it once computed when only the data changes (matched axes above
        all), so a live chart would stop at an early step; an explicit range follows every point.
        """
        layout = new["layout"]

        def group(axis: str) -> str:  # matched axes ("matches": "x2") share one range: use the matched one's
            matches = (layout.get(axis) or {}).get("matches")
            return "xaxis" + matches[1:] if matches else axis

        spans: dict[str, tuple[float, float]] = {}
        for trace in new["data"]:
            xs = [x for x in trace.get("x", ()) if isinstance(x, int | float) and not isinstance(x, bool)]
            if xs:
                axis = group("xaxis" + str(trace.get("xaxis", "x"))[1:])
                lo, hi = spans.get(axis, (min(xs), max(xs)))
                spans[axis] = (min(lo, *xs), max(hi, *xs))
        axes = {a for a in layout if a.startswith("xaxis")} | set(spans)
        for axis in axes:
            if group(axis) not in spans:
                continue
            lo, hi = spans[group(axis)]
            span = [lo, hi] if hi > lo else [lo - 1, hi + 1]
            if self._zoomed:
                span = list(self._fw.layout[axis].range or span)
            layout.setdefault(axis, {})["range"] = span

    def _sync(self, figure: go.Figure) -> None:
        fw, old, new = self._fw, self._shown, figure.to_plotly_json()
        self._follow(new)
        with fw.batch_update():
            if [t["type"] for t in old["data"]] == [t["type"] for t in new["data"]]:
                for trace, before, after in zip(fw.data, old["data"], new["data"]):
                    if changed := _changed(before, after):
                        trace.update(changed, overwrite=True)
            else:
                fw.data = ()
                fw.add_traces(list(figure.data))
            if changed := _changed(old["layout"], new["layout"]):
                fw.layout.update(changed, overwrite=True)
            if not self._sized:
                # The browser draws a FigureWidget before its column is laid out, at plotly's default 700 px,
                # and never measures again (plotly.py #5208): a chart in a narrower column was cut off at the
                # right. Its first update, by then on the page, asks plotly.js to fit the chart to its column.
                fw.layout.autosize = True
                self._sized = True
        self._shown = new

    def _render_static(self, figure: go.Figure) -> None:
        spec = json.loads(pio.to_json(figure, validate=False))  # numpy arrays become lists, once
        html = pio.to_html(spec, validate=False, include_plotlyjs=_plotlyjs_url(), full_html=False,
                           default_height=figure.layout.height, config=_CONFIG)  # fmt: skip
        bundle = {"application/vnd.plotly.v1+json": {**spec, "config": _CONFIG}, "text/html": html}
        self._out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)


@cache
def _plotlyjs_url() -> str:
    # The CDN copy of the plotly.js this plotly bundles. Given as a URL, to_html writes the script tag
    # as is; with "cdn" it would hash the 4.6 MB bundle on every redraw (for the tag's integrity check).
    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


def _changed(before: dict, after: dict) -> dict:
    """The top-level keys whose values differ (None: a key that is gone)."""
    return {k: after.get(k) for k in before.keys() | after.keys() if not _same(before.get(k), after.get(k))}


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except ValueError:  # sequences holding arrays: count them as changed
        return False


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
