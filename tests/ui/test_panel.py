"""The panel headless: set values, click through the API, assert on the runs it makes."""

from __future__ import annotations

import json

import pytest
import user_files

from workbench.history import StepEvent
from workbench.ui import Workbench


@pytest.fixture
def panel(make_config):
    cfg = make_config(train={"steps": 12, "lr": 0.3, "eval_every": 6})
    panel = Workbench(cfg, chart_interval_s=0, chart_budget=None)
    assert panel.settled(timeout=120)  # the model and data load in the background
    return panel


def test_settings_show_preview_counts_and_findings(panel):
    assert "name[" in panel.info.preview.value  # toy-e2e rows
    assert "trainable</b> 1,280" in panel.info.counts.value  # 5 slots x 2 layers x (key, value) x 64
    panel.controls.prefix_length.value = 10
    panel.settled()
    assert "trainable</b> 2,560" in panel.info.counts.value
    assert "eager" in panel.info.findings.value
    panel.controls.model.value = "no-such-model-xyz"
    assert "loading no-such-model-xyz" in panel.info.counts.value  # said at once, loaded in the background
    panel.settled()
    assert "no-such-model-xyz" in panel.info.counts.value and "could not load" in panel.info.counts.value


def test_the_model_menu_offers_the_packaged_models_and_one_not_fetched_here_names_its_fetch(panel, tmp_path,
                                                                                            monkeypatch):  # fmt: skip
    from workbench.models import PACKAGED_MODELS, fetch

    assert set(PACKAGED_MODELS) <= set(panel.controls.model.options) and "minilm-l6" in PACKAGED_MODELS
    # The panel does not fetch (a licence to accept, minutes of conversion): it says in place which command does.
    monkeypatch.setattr(fetch, "fetched_path", lambda name: tmp_path / name)
    monkeypatch.setattr(fetch, "hub_reachable", lambda: False)
    panel.controls.model.value = "gemma3-270m"
    panel.settled()
    assert "`prefix-workbench fetch gemma3-270m --accept-license gemma`" in panel.info.counts.value


def test_train_click_runs_records_history_probes_samples_and_charts(panel):
    panel.train_button.click()
    run = panel.wait(timeout=120)
    assert run is not None and not panel.is_training
    assert [s.step for s in run.history.steps] == list(range(1, 13))
    assert len(panel.probes) == 2 and panel.attention.probe.share.shape == (2, 4)
    assert "with the prefix" in panel.samples.table.value and "completed" in panel.progress.status.value
    assert panel.loss_chart.draws >= 12 and list(panel.loss_chart.view.data[0].x)[-1] == 12
    assert not panel.train_button.disabled and panel.stop_button.disabled


def test_double_click_starts_one_run_and_settings_changed_during_a_run_do_not_touch_it(panel, hold_at_step):
    started, go_on = hold_at_step(panel, 1)
    panel.train_button.click()
    panel.train_button.click()
    assert panel.train() is None  # refused while the first one holds the panel
    assert started.wait(60)
    panel.controls.prefix_length.value = 40
    panel.controls.steps.value = 3
    go_on.set()
    run = panel.wait(timeout=120)
    assert len(panel.runs) == 1
    assert run.config.prefix.length == 5 and run.history.last_step == 12


def test_stop_ends_the_run_at_a_step_boundary_and_keeps_it_exportable(panel, tmp_path):
    panel.controls.steps.value = 10_000
    original = panel.training._on_event

    def stop_at_three(event):
        original(event)
        if isinstance(event, StepEvent) and event.step == 3:
            panel.stop_button.click()

    panel.training._on_event = stop_at_three
    panel.train_button.click()
    run = panel.wait(timeout=120)
    assert run.history.ends[-1].reason == "stopped" and run.history.last_step == 3
    assert "stopped" in panel.progress.status.value
    panel.export_path.value = str(tmp_path / "out")
    panel.export_button.click()
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert info["history"]["steps"][-1]["step"] == 3


def test_export_refuses_to_overwrite_and_says_so_in_place(panel, tmp_path):
    panel.export_button.click()
    assert "train a run first" in panel.progress.status.value
    panel.train(wait=True)
    target = tmp_path / "run"
    assert panel.export(target) == target
    assert panel.export(target) is None and "exists" in panel.progress.status.value
    assert panel.export(target, overwrite=True) == target


def test_errors_show_in_place_and_the_panel_stays_usable(panel):
    panel.controls.dataset.value = "/no/such/file.csv"
    assert panel.train(wait=True) is None or panel.run is None
    assert "file.csv" in panel.progress.status.value and not panel.is_training
    panel.controls.dataset.value = "toy-e2e"
    assert panel.train(wait=True) is not None and panel.run.history.last_step == 12


def test_runs_are_overlaid_and_share_one_frozen_base(panel):
    prompt = ["name[Aromi] food[Italian]"]
    first = panel.train(wait=True)
    alone = first.generate(prompt)
    panel.controls.prefix_length.value = 2
    second = panel.train(wait=True)
    assert first.loaded.model is second.loaded.model  # one base model in memory
    assert len(panel.runs_view.select.value) == 2 and len(panel.runs_view.chart.view.data) == 4
    panel.runs_view.curves.value = True  # their learning curves: the metric by step and by seconds of training
    chart = panel.runs_view.chart.view
    assert [t.xaxis or "x" for t in chart.data] == ["x", "x2"] * 2 and chart.layout.yaxis.title.text == "slot_coverage"
    assert list(chart.data[0].x) == [e.step for e in first.history.evals]
    panel.runs_view.curves.value = False
    assert chart.layout.xaxis2.domain is None and chart.data[1].name.endswith("(val)")
    # the first run still answers with its own prefix after a second one wrapped the same base
    assert second.model.active_peft_config.num_virtual_tokens == 2
    assert first.generate(prompt) == alone


def test_resume_from_the_panel_continues_the_curve(panel, make_config, tmp_path):
    cfg = make_config(train={"steps": 4, "lr": 0.3, "checkpoint_every": 2})
    panel.train(cfg, wait=True)
    saved = panel.export(tmp_path / "ck", overwrite=True)
    assert (saved / "checkpoint").is_dir()
    run = panel.resume(saved, steps=8, wait=True)
    assert run is not None and run is panel.run and len(panel.runs) == 2
    assert [s.step for s in run.history.steps] == list(range(1, 9))
    assert panel.resume("  ", wait=True) is None and "run directory" in panel.progress.status.value


def test_eval_events_reach_the_views(panel):
    run = panel.train(wait=True)
    evals = run.history.evals
    assert [e.step for e in evals] == [6, 12]
    # Each evaluation drew the attention views and the samples of that step; the chart holds its points.
    assert [p.step for p in panel.probes] == [6, 12] and panel.attention.probe is panel.probes[-1]
    assert panel.attention.share.figure.layout.title.text == "Attention on the prefix (step 12)"
    assert "<div>step 12</div>" in panel.samples.table.value
    assert evals[-1].samples[0]["output"] in panel.samples.table.value.replace("&gt;", ">").replace("&#x27;", "'")
    chart = {t.name: t for t in panel.loss_chart.figure.data}
    assert list(chart["validation loss"].x) == [6, 12] and list(chart["validation loss"].y) == [e.loss for e in evals]
    assert list(chart["slot_coverage"].y) == [e.metrics["slot_coverage"] for e in evals]


def _user_file(tmp_path, name, rows):
    return str(user_files.write(tmp_path / name, getattr(user_files, rows)()))


def test_a_regression_file_on_an_encoder_ends_with_a_predicted_vs_true_scatter(panel, tmp_path):
    panel.controls.model.value = "tiny-bert"
    panel.controls.dataset.value = _user_file(tmp_path, "stars.csv", "stars")
    panel.controls.kind.value = "regression"
    panel.settled()
    assert "lacks" in panel.info.counts.value  # columns review/stars are not text/label yet: said in place
    panel.controls.columns.value = "text=review, label = stars"
    panel.settled()
    assert "(regression)" in panel.info.preview.value
    run = panel.train(wait=True)
    assert run.objective.name == "seq-reg" and run.metric == "rmse"
    assert "rmse (lower is better)" in panel.results.summary.value
    assert panel.results.holder.layout.display is None
    assert panel.results.chart.figure.layout.title.text.startswith("Predicted vs true")
    assert "rmse (lower is better)" in panel.loss_chart.figure.layout.yaxis3.title.text


def test_a_classification_file_ends_with_a_confusion_matrix_and_unknown_words_are_flagged(panel, tmp_path):
    panel.controls.dataset.value = _user_file(tmp_path, "reviews.jsonl", "reviews")
    panel.controls.model.value = "tiny-gpt2"
    panel.settled()
    assert "(classification)" in panel.info.preview.value
    run = panel.train(wait=True)
    assert run.metric == "accuracy" and next(iter(run.history.evals[-1].metrics)) == "accuracy"
    assert panel.results.chart.figure.data[0].type == "heatmap"
    assert list(panel.results.chart.figure.data[0].x) == ["bad", "good"]
    pairs = [{"source": f"the food {i}", "target": "la nourriture"} for i in range(20)]
    panel.controls.dataset.value = str(user_files.write(tmp_path / "fr.jsonl", pairs))
    panel.settled()
    assert "100% of target tokens are unknown" in panel.info.findings.value


FRESH_PANEL = """
import sys
import workbench as wb
panel = wb.Workbench()
first = (panel.info.counts.value, panel.settled(timeout=0))
panel.settled()
print(repr((first, panel.info.counts.value)))
"""


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_a_new_panel_shows_before_the_model_has_loaded():
    # In a fresh interpreter, so that nothing is imported yet: the constructor returns while loading goes on.
    import ast
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FRESH_PANEL], capture_output=True, text=True, check=True).stdout
    (shown, settled_at_once), later = ast.literal_eval(out.strip().splitlines()[-1])
    assert "loading tiny-demo and toy-e2e" in shown and settled_at_once is False
    assert "trainable</b> 10,240" in later


def test_earlier_runs_keep_their_results_but_not_their_training_state(panel, tmp_path):
    # What keeps a long session's memory flat: only the run being trained holds an optimizer and encoded data.
    first = panel.train(wait=True)
    outputs = first.generate(["name[Aromi] food[Italian]"], max_new_tokens=6)
    second = panel.train(wait=True)
    assert first._trainer is None and first._splits is None and second._trainer is not None
    assert first.generate(["name[Aromi] food[Italian]"], max_new_tokens=6) == outputs  # the prefix is kept
    assert first.export(tmp_path / "first").is_dir() and first.history.last_step == 12
    assert first.train(steps=14).last_step == 14  # trains on, with a new optimizer


def test_a_local_model_folder_and_a_data_file_read_by_their_short_names(make_config, tmp_path):
    import shutil

    from workbench.models import builtin_path

    folder = tmp_path / "my-models" / "gpt"
    shutil.copytree(builtin_path("tiny-gpt2"), folder)
    (tmp_path / "data").mkdir()
    data = user_files.write(tmp_path / "data" / "pairs.jsonl",
                            [{"source": f"name[R{i}]", "target": f"R{i} is nice"} for i in range(40)])  # fmt: skip
    cfg = make_config(str(folder), str(data), train={"steps": 3})
    panel = Workbench(cfg, chart_interval_s=0, chart_budget=None)
    assert panel.settled(timeout=120)
    run = panel.train(wait=True)
    title = panel.loss_chart.figure.layout.title.text
    assert title.startswith("gpt · pairs.jsonl") and "/" not in title
    assert all("/" not in label for label in panel.runs) and repr(run).startswith("Run(model='gpt', data='pairs.jsonl'")
    assert run.info()["config"]["model"]["name"] == str(folder)  # programs keep the full path


def test_the_panels_data_cache_reads_again_when_a_mixture_or_a_limit_changes(make_config):
    from workbench.ui.loader import Loader

    loader, cfg = Loader(lambda: None), make_config()
    plain = loader.data(cfg)
    assert loader.data(cfg) is plain
    cfg.data.mix = ["toy-sentiment"]
    assert loader.data(cfg).kind == "mixture"
    cfg.data.mix, cfg.data.max_train_examples = [], 16
    assert len(loader.data(cfg).train) == 16 != len(plain.train)
