"""Colab mode, simulated with a fake ``google.colab``: widget manager, foreground training, interrupts."""

from __future__ import annotations

import importlib.machinery
import os
import signal
import sys
import threading
import types

import pytest

from workbench.history import StepEvent
from workbench.ui import Workbench, in_colab


@pytest.fixture
def colab(monkeypatch):
    calls = {"widgets": 0, "downloads": []}
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.__setitem__("widgets", 1))
    files = types.SimpleNamespace(download=calls["downloads"].append)
    package = types.ModuleType("google.colab")
    package.output, package.files = output, files
    package.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)  # libraries probe for it
    google = types.ModuleType("google")
    google.__spec__ = importlib.machinery.ModuleSpec("google", None, is_package=True)
    google.colab = package
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", package)
    return calls


@pytest.fixture
def panel(colab, make_config):
    cfg = make_config(train={"steps": 30, "lr": 0.3, "eval_every": 0})
    return Workbench(cfg, chart_interval_s=0, chart_budget=None)


def test_on_colab_the_panel_is_shown_first_then_loaded_in_the_cell(colab, make_config, monkeypatch):
    import IPython.display

    order = []
    load = Workbench._load
    monkeypatch.setattr(IPython.display, "display", lambda widget: order.append("shown"))
    monkeypatch.setattr(Workbench, "_load", lambda self, config: (order.append("loaded"), load(self, config)))
    panel = Workbench(make_config(), chart_interval_s=0, chart_budget=None)
    assert order == ["shown", "loaded"] and panel.loader._thread is None  # in this cell, no loading thread
    assert "trainable</b>" in panel.info.counts.value  # loaded before the constructor returned
    assert panel._repr_mimebundle_() == {"text/plain": "(the workbench panel is shown above)"}


def test_colab_is_detected_and_the_panel_trains_in_the_foreground_with_static_charts(colab, panel):
    assert in_colab() and colab["widgets"] == 1
    assert panel.foreground and panel.chart_mode == "static"

    def panel_threads():  # the process's one training thread (workbench.training_thread) may stay, idle
        return [t for t in threading.enumerate() if not t.name.startswith("workbench-train")]

    threads = panel_threads()
    panel.train_button.click()  # returns only when the run has ended
    assert panel.training._thread is None and panel_threads() == threads
    assert panel.run.history.last_step == 30 and not panel.is_training
    spec = panel.loss_chart.view.outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert spec["data"][0]["x"][-1] == 30  # drawn live into the Output, no FigureWidget


def test_interrupt_stops_cleanly_at_a_step_boundary(panel):
    original = panel.training._on_event

    def interrupt_at_three(event):
        original(event)
        if isinstance(event, StepEvent) and event.step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # what Colab's stop button sends

    panel.training._on_event = interrupt_at_three
    run = panel.train()
    # The run trains on the process's training thread: the signal, handled by the waiting main thread, stops it
    # at the next step boundary (the one the signal came in, or the one after).
    end = run.history.ends[-1]
    assert end.reason == "stopped" and end.step in (3, 4) and run.history.last_step == end.step
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_keyboard_interrupt_keeps_the_prefix_and_history_and_export_downloads_a_zip(colab, panel, tmp_path):
    original = panel.training._on_event

    def second_ctrl_c(event):
        original(event)
        if isinstance(event, StepEvent) and event.step == 4:
            raise KeyboardInterrupt

    panel.training._on_event = second_ctrl_c
    run = panel.train()
    assert run is panel.run and run.history.last_step == 4
    assert "interrupted at step 4" in panel.progress.status.value and not panel.is_training
    out = panel.export(tmp_path / "colab-run")
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert colab["downloads"] == [str(tmp_path / "colab-run.zip")]
    import zipfile

    with zipfile.ZipFile(tmp_path / "colab-run.zip") as archive:
        names = set(archive.namelist())
        assert {"colab-run/run.json", "colab-run/README.md", "colab-run/adapter/adapter_model.safetensors",
                "colab-run/adapter/adapter_config.json"} <= names  # fmt: skip
        assert archive.read("colab-run/run.json") == (out / "run.json").read_bytes()
    panel.training._on_event = original
    assert panel.train().history.last_step == 30  # the panel still works
