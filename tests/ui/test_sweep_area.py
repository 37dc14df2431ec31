"""The panel's Sweep section headless: type a space, click Sweep, watch the table and figures fill in."""

from __future__ import annotations

import pytest

from workbench.ui import Workbench

pytest.importorskip("optuna")


@pytest.fixture
def panel(make_config):
    config = make_config("tiny-demo", train={"steps": 12, "eval_every": 4, "eval_generate": 4, "max_new_tokens": 12})
    panel = Workbench(config, chart_interval_s=0, chart_budget=None)
    assert panel.settled(timeout=120)
    return panel


def test_a_sweep_click_fills_the_trial_table_curves_and_optuna_figures(panel, tmp_path):
    area = panel.sweep
    area.space.value = "lr=1e-2:1e-1:log\nprefix_length=2,5"
    area.trials.value, area.out.value = 3, str(tmp_path / "sweep")
    result = area.start(wait=True)
    assert result is not None and len(result.trials) == 3, area.status.value
    assert "done; best: trial" in area.status.value and f"{tmp_path / 'sweep'}/best" in area.status.value
    assert area.table.value.count("<tr>") == 1 + 3 and "prefix_length" in area.table.value and "★" in area.table.value
    assert len(area.figures["curves"].view.data) == 3  # one validation curve per trial
    complete = sum(t.state == "complete" for t in result.trials)
    assert ("history" in area.figures) == (complete >= 2)
    assert not area.sweep_button.disabled and area.stop_button.disabled
    assert (tmp_path / "sweep" / "best" / "run.json").is_file()


def test_a_bad_space_is_said_in_place_and_nothing_is_written(panel, tmp_path):
    area = panel.sweep
    area.space.value = "lr=0.1:0.01"
    area.out.value = str(tmp_path / "sweep")
    area.sweep_button.click()
    assert "lr=0.1:0.01" in area.status.value and "error" not in area.table.value
    assert not (tmp_path / "sweep").exists() and not area.sweep_button.disabled
    area.space.value = ""
    area.sweep_button.click()
    assert "the search space is empty" in area.status.value


def test_stop_ends_the_sweep_after_the_current_trial_and_resume_goes_on(panel, tmp_path):
    area = panel.sweep
    area.space.value, area.trials.value, area.out.value = "lr=1e-2:1e-1:log", 3, str(tmp_path / "sweep")
    original = area._on_trial

    def stop_after_the_first(trial, out, wanted):
        original(trial, out, wanted)
        area.stop_button.click()

    area._on_trial = stop_after_the_first
    area.sweep_button.click()
    area._thread.join(120)
    assert area.result is not None and area.result.stopped and len(area.result.trials) == 1
    assert "stopped (tick resume and Sweep to go on)" in area.status.value
    area._on_trial = original
    area.resume.value = True
    result = area.start(wait=True)
    assert result is not None and [t.number for t in result.trials] == [0, 1, 2] and not result.stopped
