"""The panel's Analyse action: after a run, on an exported run, and refused while training."""

from __future__ import annotations

import pytest
import torch

from workbench.ui import Workbench


@pytest.fixture
def panel(make_config):
    panel = Workbench(make_config(train={"steps": 8, "lr": 0.3}), chart_interval_s=0, chart_budget=None)
    assert panel.settled(timeout=120)
    return panel


def test_analyse_before_any_run_says_what_to_do(panel):
    panel.analysis.button.click()
    assert "nothing to analyse yet" in panel.analysis.status.value
    assert panel.analysis.slots is None  # no chart until there is an analysis


def test_analyse_click_after_a_run_draws_both_charts_and_the_readout(panel):
    run = panel.train(wait=True)
    before = {n: p.detach().clone() for n, p in run.live_model.named_parameters() if p.requires_grad}
    result = panel.analyse(wait=True, rows=8, metric_rows=2)
    assert result is not None and not panel.analysis.button.disabled
    assert "at step 8" in panel.analysis.status.value and "slot ablation" in panel.analysis.status.value
    assert panel.analysis.summary.value.startswith("slots: ")
    assert panel.analysis.slots.view.data[0].x == tuple(f"P{s}" for s in result.slots.order)
    assert len(panel.analysis.layers.view.data) == 2  # hidden at / only at each layer
    assert panel.analysis.readout.value.count("<tr>") == 1 + 5  # header + one row per slot
    assert all(torch.equal(before[n], p) for n, p in run.live_model.named_parameters() if p.requires_grad)


def test_analyse_an_exported_run_by_its_directory(panel, tmp_path):
    panel.train(wait=True)
    out = panel.export(tmp_path / "exported")
    panel.analysis.path.value = str(out)
    panel.analysis.button.click()
    panel.analysis._thread.join(120)
    assert str(out) in panel.analysis.status.value and panel.analysis.slots is not None
    panel.analysis.path.value = str(tmp_path / "missing")
    panel.analysis.button.click()
    panel.analysis._thread.join(60)
    assert "missing" in panel.analysis.status.value and "#b00020" in panel.analysis.status.value  # said as an error


def test_analyse_is_refused_while_the_run_trains(panel, hold_at_step):
    started, go_on = hold_at_step(panel, 2)
    panel.train()
    assert started.wait(60)
    assert panel.analyse() is None
    assert "still training" in panel.analysis.status.value
    go_on.set()
    panel.wait(120)
