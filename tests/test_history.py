"""A run's history: what its curves read back."""

from __future__ import annotations

import math

from workbench.history import EvalEvent, History, StepEvent


def test_a_learning_curve_counts_seconds_of_training_not_of_evaluating():
    h = History()
    for step in range(1, 5):  # a second a step, and each evaluation takes 10 s on the same clock
        elapsed = step + 10 * (step > 2)
        h.record(StepEvent(step=step, loss=1.0, lr=0.1, tokens_per_s=1.0, elapsed_s=elapsed))
        if step % 2 == 0:
            h.record(EvalEvent(step=step, loss=3.0 - step / 2, metrics={"bleu": 10.0 * step}, elapsed_s=elapsed + 10))
    h.record(EvalEvent(step=4, loss=0.5, metrics={}, elapsed_s=35.0))  # an evaluation without the metric
    points = h.curve("bleu")
    assert [(p.step, p.seconds, p.loss, p.value) for p in points[:2]] == [(2, 2.0, 2.0, 20.0), (4, 4.0, 1.0, 40.0)]
    assert points[2].step == 4 and points[2].seconds == 4.0 and math.isnan(points[2].value)
