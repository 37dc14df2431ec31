"""Live charts update in place (FigureWidget) or re-render (static Output); the throttle limits redraws."""

from __future__ import annotations

import time

import pytest

from workbench import plots
from workbench.history import EvalEvent, History, StepEvent
from workbench.ui import LiveFigure, chart_mode
from workbench.ui.live import Throttle


def _history(n: int) -> History:
    h = History()
    for i in range(1, n + 1):
        h.record(StepEvent(step=i, loss=5.0 / i, lr=0.1, tokens_per_s=100.0, elapsed_s=float(i), total_steps=n))
    return h


def test_the_chart_is_made_on_first_use_inside_the_box_layouts_hold():
    chart = LiveFigure(plots.loss_figure(_history(2)), "widget")
    assert chart.widget.children == ()  # placed on the page before plotly's renderers are imported
    chart.materialize()
    assert chart.widget.children == (chart.view,) and list(chart.view.data[0].x) == [1, 2]


def test_widget_mode_copies_new_points_into_the_same_traces():
    chart = LiveFigure(plots.loss_figure(History()), "widget")
    widget = chart.view
    chart.show(plots.loss_figure(_history(5)))
    assert chart.view is widget
    assert list(widget.data[0].x) == [1, 2, 3, 4, 5] and widget.data[0].y[-1] == pytest.approx(1.0)


def _relayout(chart, **data):
    # What the browser sends when a user zooms, pans or double-clicks.
    chart.view._js2py_relayout = {"relayout_data": data, "source_view_id": None}


def test_widget_mode_follows_new_points_until_a_zoom_and_again_after_a_double_click():
    chart = LiveFigure(plots.loss_figure(_history(3), title="first"), "widget")
    history = _history(6)
    history.record(EvalEvent(step=5, loss=1.0, metrics={"slot_coverage": 0.5}))  # one point on the lower axis
    chart.show(plots.loss_figure(history, title="second"))
    # Matched axes (loss above, metric below) share one range: the whole run's, not the lone point's.
    assert chart.view.layout.xaxis.range == chart.view.layout.xaxis2.range == (1, 6)
    assert chart.view.layout.title.text == "second"
    _relayout(chart, **{"xaxis.range[0]": 2, "xaxis.range[1]": 3})  # the user zooms in
    chart.show(plots.loss_figure(_history(9), title="third"))
    assert list(chart.view.data[1].x) == list(range(1, 10)) and chart.view.layout.xaxis.range == (2, 3)
    _relayout(chart, **{"xaxis.autorange": True})  # a double-click: follow the data again
    chart.show(plots.loss_figure(_history(12)))
    assert chart.view.layout.xaxis.range == (1, 12)
    chart.show(plots.overlay_figure({"a": _history(2), "b": _history(4)}))  # other traces: replaced
    assert [t.name for t in chart.view.data] == ["a", "a (val)", "b", "b (val)"]


def test_static_mode_renders_the_plotly_mimetype_and_html():
    chart = LiveFigure(plots.loss_figure(History()), "static")
    chart.show(plots.loss_figure(_history(3)))
    (output,) = chart.view.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    assert spec["data"][0]["x"] == [1, 2, 3]
    html = output["data"]["text/html"]
    assert "https://cdn.plot.ly/plotly-" in html and len(html) < 100_000  # plotly.js linked, not inlined


def test_auto_mode_and_bad_modes():
    assert chart_mode("auto") == "widget"  # anywidget is installed, not Colab
    with pytest.raises(ValueError, match="charts must be one of"):
        chart_mode("svg")


def test_throttle_allows_one_call_per_interval():
    throttle = Throttle(0.2)
    assert throttle.due() and not throttle.due() and throttle.due(force=True)
    time.sleep(0.25)
    assert throttle.due()


def test_throttle_stretches_its_interval_so_slow_work_keeps_within_its_budget():
    throttle = Throttle(0.5, budget=0.05)
    throttle.took(0.1)  # 0.1 s of drawing at 5 % of wall time: once every 2 s
    assert throttle.interval_s == pytest.approx(2.0)
    throttle.took(0.001)  # fast again: back to the floor, never below it
    assert throttle.interval_s == 0.5
