"""The panel's views show plain data: progress with an ETA, escaped user text."""

from __future__ import annotations

from workbench.history import StepEvent
from workbench.ui.views import ProgressView, SamplesView


def _event(step: int, elapsed_s: float) -> StepEvent:
    return StepEvent(step=step, loss=1.0, lr=0.1, tokens_per_s=10.0, elapsed_s=elapsed_s, total_steps=120)


def test_eta_counts_only_this_session_of_a_resumed_run():
    view = ProgressView()
    view.step(_event(110, 1010.0), since=(100, 1000.0))  # resumed at step 100 after 1000 s; 1 s a step since
    assert "ETA 0:10" in view.line.value and "elapsed 16:50" in view.line.value
    view.step(_event(10, 20.0))  # a fresh run: 2 s a step
    assert "ETA 3:40" in view.line.value and view.bar.value == 10 and view.bar.max == 120
    assert "evaluating" not in view.line.value
    view.step(_event(50, 100.0), evaluating=True)  # an evaluation follows: the line says so while it runs
    assert view.line.value.endswith("evaluating …</code>")


def test_samples_escape_user_text():
    view = SamplesView()
    view.show([{"input": "<b>x</b>", "output": "y", "reference": "z"}], ["<i>"], step=3)
    table = view.table.value
    assert "&lt;b&gt;x&lt;/b&gt;" in table and "&lt;i&gt;" in table and "step 3" in table
