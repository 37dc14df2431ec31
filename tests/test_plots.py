"""Figures from histories and probes: the traces hold the data they were given."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench import plots
from workbench.attention import ProbeResult
from workbench.history import EvalEvent, History, StepEvent


def _history() -> History:
    h = History()
    for i in range(1, 11):
        h.record(StepEvent(step=i, loss=10.0 / i, lr=0.01 * i, tokens_per_s=1.0, elapsed_s=i, total_steps=10))
    h.record(EvalEvent(step=5, loss=2.5, metrics={"slot_coverage": 0.4, "bleu": 10.0}))
    h.record(EvalEvent(step=10, loss=1.5, metrics={"slot_coverage": 0.9, "bleu": 30.0}))
    return h


def _probe(step: int = 7, scale: float = 1.0) -> ProbeResult:
    per_token = np.random.default_rng(0).random((2, 3, 4, 6))
    share = scale * np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])  # [layers, heads]: every cell its own value
    return ProbeResult(share=share, per_token=per_token, key_labels=["P0", "P1", "a", "b", "a", "c"],
                       query_labels=["a", "b", "a", "c"], prefix_length=2, step=step)  # fmt: skip


def test_smooth_is_a_bias_corrected_moving_average():
    assert plots.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    out = plots.smooth([1.0, float("nan"), 3.0], weight=0.5)
    assert out[0] == 1.0 and math.isnan(out[1]) and 1.0 < out[2] < 3.0


def test_loss_figure_has_raw_smoothed_validation_lr_and_metric():
    fig = plots.loss_figure(_history())
    names = [t.name for t in fig.data]
    assert names == ["train loss", "train (smoothed)", "validation loss", "learning rate", "slot_coverage"]
    assert list(fig.data[2].y) == [2.5, 1.5] and list(fig.data[4].y) == [0.4, 0.9]
    assert fig.data[3].yaxis == "y2"  # the learning rate has its own axis
    empty = plots.loss_figure(History())
    assert len(empty.data) == len(fig.data)  # same traces before any data, for live updates


def test_long_runs_are_thinned_after_smoothing_and_keep_their_last_step():
    h = History()
    for i in range(1, 10_001):
        loss = 1.0 if i % 2 else 3.0
        h.record(StepEvent(step=i, loss=loss, lr=0.1, tokens_per_s=1.0, elapsed_s=i, total_steps=10_000))
    fig = plots.loss_figure(h, max_points=500)
    raw, smoothed = fig.data[0], fig.data[1]
    assert len(raw.x) <= 500 and raw.x[0] == 1 and raw.x[-1] == 10_000
    assert smoothed.y[-1] == pytest.approx(plots.smooth(h.losses())[-1])  # smoothed over every step, then thinned
    assert len(plots.overlay_figure({"a": h}, max_points=500).data[0].x) <= 500
    assert len(plots.loss_figure(_history()).data[0].x) == 10  # short runs keep every step


def test_overlay_has_two_traces_per_run():
    fig = plots.overlay_figure({"a": _history(), "b": _history()})
    assert [t.name for t in fig.data] == ["a", "a (val)", "b", "b (val)"]


def test_curves_put_each_method_against_steps_and_against_seconds():
    curves = {"prefix": _history().curve("bleu"), "lora": _history().curve("bleu")}
    fig = plots.curves_figure(curves, "bleu")
    assert [(t.name, t.xaxis or "x") for t in fig.data] == [("prefix", "x"), ("prefix", "x2"), ("lora", "x"),
                                                             ("lora", "x2")]  # fmt: skip
    assert list(fig.data[0].x) == [5, 10] and list(fig.data[1].x) == [5.0, 10.0] and list(fig.data[0].y) == [10, 30]
    assert fig.data[1].showlegend is False and fig.layout.xaxis2.title.text == "seconds of training"


def test_attention_figures_label_prefix_slots_and_keep_repeated_tokens_apart():
    probe = _probe()
    share = plots.prefix_share_figure(probe)
    assert share.data[0].z.shape == (2, 3) and "step 7" in share.layout.title.text
    np.testing.assert_allclose(share.data[0].z, probe.share)  # rows are layers, columns heads
    assert list(share.data[0].y) == ["L0", "L1"] and list(share.data[0].x) == ["H0", "H1", "H2"]
    tokens = plots.token_attention_figure(probe, layer=0, head=1)
    keys = list(tokens.data[0].x)
    assert keys[:2] == ["P0", "P1"] and len(set(keys)) == 6
    np.testing.assert_allclose(tokens.data[0].z, probe.per_token[0, 1])
    mean = plots.token_attention_figure(probe, layer=-1)
    np.testing.assert_allclose(mean.data[0].z, probe.per_token[1].mean(0))


def test_attention_over_training_has_a_line_per_layer_in_step_order():
    fig = plots.attention_over_training([_probe(step=5, scale=1.0), _probe(step=10, scale=0.5)])
    assert [t.name for t in fig.data] == ["layer 0", "layer 1"]
    assert list(fig.data[0].x) == [5, 10]
    np.testing.assert_allclose(fig.data[0].y, [0.2, 0.1])  # layer 0's mean over heads at each probe
    np.testing.assert_allclose(fig.data[1].y, [0.5, 0.25])


def test_a_diverged_runs_history_reloads_and_draws():
    # run.json keeps NaN and inf as strings; reading it back gives floats again, and charts skip them.
    import json

    h = _history()
    h.record(StepEvent(step=11, loss=float("nan"), lr=0.1, tokens_per_s=1.0, elapsed_s=11, total_steps=11))
    h.record(EvalEvent(step=11, loss=float("inf"), metrics={"slot_coverage": 0.9, "r2": float("nan")}))
    text = json.dumps(h.to_dict())
    assert "NaN" not in text and '"nan"' in text  # valid JSON
    again = History.from_dict(json.loads(text))
    assert math.isnan(again.steps[-1].loss) and again.evals[-1].loss == float("inf")
    assert math.isnan(again.evals[-1].metrics["r2"])
    fig = plots.loss_figure(again)
    assert len(fig.data[0].x) == 11 and plots.overlay_figure({"diverged": again}).data
    assert again.best_eval("slot_coverage").step == 10  # a tie goes to the first; NaN never wins


def test_an_empty_metric_panel_says_when_its_first_point_comes():
    waiting = plots.loss_figure(History(), first_eval=3)
    assert [a.text for a in waiting.layout.annotations] == ["first evaluation at step 3"]
    assert waiting.layout.yaxis3.showticklabels is False  # no bare -1..1 axis
    drawn = plots.loss_figure(_history(), first_eval=3)
    assert not drawn.layout.annotations and drawn.layout.yaxis3.showticklabels is True


def test_many_labels_read_as_their_worst_mistakes():
    from workbench.evaluate import EvalResult
    from workbench.metrics import classification_report
    from workbench.report import report_text

    names = [f"intent_{i:02d}" for i in range(30)]
    ref = [i for i in range(30) for _ in range(4)]
    pred = list(ref)
    pred[8:11] = [7, 7, 7]  # intent_02 taken for intent_07 three times
    pred[40] = 11  # intent_10 once for intent_11
    report = classification_report(pred, ref, names)
    assert report["confused"] == [["intent_02", "intent_07", 3], ["intent_10", "intent_11", 1]]
    figure = plots.confusion_figure(report)
    heat = figure.data[0]
    assert list(heat.y[:2]) == ["intent_02", "intent_07"]  # the labels with the most mistakes first
    assert "intent_02 → intent_07 (3)" in figure.layout.title.text and heat.texttemplate == ""
    text = report_text(EvalResult(0.1, {"accuracy": 0.97}, rows=[{}] * 120, report=report), split="test")
    assert "most confused" in text and "intent_02 → intent_07: 3" in text
    assert "confusion matrix" not in text  # 30 x 30 numbers are not printed
