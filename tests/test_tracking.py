"""Trackers: a run logged to TensorBoard and MLflow, read back with their own readers."""

import importlib.util
import subprocess
import sys
import threading

import pytest

from workbench import Run
from workbench.config import DataChoice, ModelChoice, PrefixSettings, RunConfig, TrainSettings
from workbench.errors import ConfigError
from workbench.history import EndEvent, EvalEvent, StepEvent
from workbench.tracking import check_trackers, start_tracking


def _scalars(logdir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def _client(directory):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{directory}/mlflow.db")


def test_a_tracked_run_is_in_tensorboard_and_mlflow_step_by_step_with_its_settings_and_final_metrics(tmp_path):
    cfg = RunConfig(
        model=ModelChoice("tiny-demo"),
        data=DataChoice("toy-e2e", max_train_examples=64, max_eval_examples=16),
        prefix=PrefixSettings(length=4),
        train=TrainSettings(steps=12, eval_every=6, eval_generate=4, max_new_tokens=8,
                            report_to=["tensorboard", "mlflow"], tracking_dir=str(tmp_path)),
    )  # fmt: skip
    run = Run.create(cfg)
    history = run.train()
    steps, evals = history.steps, history.evals
    assert len(steps) == 12 and [e.step for e in evals] == [6, 12]

    (logdir,) = (tmp_path / "tensorboard" / "prefix-workbench").iterdir()
    assert logdir.name.startswith("tiny-demo-toy-e2e-")
    loss = _scalars(logdir, "train/loss")
    assert [s for s, _ in loss] == [s.step for s in steps]
    assert [v for _, v in loss] == pytest.approx([s.loss for s in steps], rel=1e-5)
    assert _scalars(logdir, "eval/loss") == [(e.step, pytest.approx(e.loss, rel=1e-5)) for e in evals]
    headline = [v for _, v in _scalars(logdir, f"eval/{run.metric}")]
    assert headline == pytest.approx([e.metrics[run.metric] for e in evals])
    assert _scalars(logdir, "final/loss") == [(12, pytest.approx(evals[-1].loss, rel=1e-5))]

    client = _client(tmp_path)
    (tracked,) = client.search_runs([client.get_experiment_by_name("prefix-workbench").experiment_id])
    assert tracked.info.status == "FINISHED" and tracked.info.run_name == logdir.name
    params = tracked.data.params
    assert params["prefix.length"] == "4" and float(params["train.lr"]) == cfg.train.lr
    assert params["train.report_to"] == '["tensorboard", "mlflow"]' and params["data.subset"] == "null"
    mlflow_loss = client.get_metric_history(tracked.info.run_id, "train/loss")
    assert [(m.step, m.value) for m in mlflow_loss] == [(s.step, pytest.approx(s.loss)) for s in steps]
    assert len(client.get_metric_history(tracked.info.run_id, "train/lr")) == 12
    assert tracked.data.metrics["final/loss"] == pytest.approx(evals[-1].loss)
    assert tracked.data.metrics[f"final/{run.metric}"] == pytest.approx(evals[-1].metrics[run.metric])
    assert [m.step for m in client.get_metric_history(tracked.info.run_id, f"eval/{run.metric}")] == [6, 12]
    assert not (tmp_path / "mlruns").exists() and not list(tmp_path.glob("**/mlruns"))


def test_two_trackings_alive_at_once_write_separate_runs_and_end_with_their_own_status(tmp_path):
    config = RunConfig().to_dict()
    started = {}

    def start(name):  # at once, on a store that does not exist yet: one experiment, created once
        started[name] = start_tracking(["tensorboard", "mlflow"], directory=tmp_path, run_name="trial",
                                       experiment="sweep", config=config)  # fmt: skip

    threads = [threading.Thread(target=start, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = started["a"], started["b"]
    assert a.run_id != b.run_id and a.logdir != b.logdir  # same run name, two TensorBoard folders
    for step in (1, 2, 3):
        a(StepEvent(step, loss=1.0 / step, lr=0.1, tokens_per_s=100.0, elapsed_s=step))
        b(StepEvent(step, loss=10.0 + step, lr=0.2, tokens_per_s=50.0, elapsed_s=step))
    a(EvalEvent(3, loss=0.5, metrics={"bleu": 0.25, "e2e/bleu": 0.2}))  # a mixture names its tasks' metrics task/metric
    a(EndEvent(3, "completed"))
    b(EndEvent(3, "stopped"))
    a.finish({"loss": 0.5})
    b.finish({})
    a.finish({"loss": 9.0})  # only the first finish counts

    client = _client(tmp_path)
    assert client.get_run(a.run_id).info.status == "FINISHED" and client.get_run(b.run_id).info.status == "KILLED"
    assert [m.value for m in client.get_metric_history(b.run_id, "train/loss")] == [11.0, 12.0, 13.0]
    last = {"train/loss": 1 / 3, "train/lr": 0.1, "train/tokens_per_s": 100.0, "eval/loss": 0.5, "eval/bleu": 0.25,
            "eval/e2e/bleu": 0.2, "final/loss": 0.5}  # fmt: skip
    assert client.get_run(a.run_id).data.metrics == pytest.approx(last)
    assert [v for _, v in _scalars(a.logdir, "train/loss")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [v for _, v in _scalars(b.logdir, "train/loss")] == pytest.approx([11.0, 12.0, 13.0])
    assert a.where == (f"TensorBoard: tensorboard --logdir {tmp_path / 'tensorboard'}; "
                       f"MLflow: mlflow ui --backend-store-uri sqlite:///{tmp_path}/mlflow.db")  # fmt: skip


def test_a_run_that_ends_badly_or_not_at_all_is_failed(tmp_path):
    diverged = start_tracking("mlflow", directory=tmp_path, run_name="nan", config={})
    diverged(StepEvent(1, loss=float("nan"), lr=0.1, tokens_per_s=1.0, elapsed_s=1.0))
    diverged(EndEvent(1, "non-finite"))
    diverged.finish({})
    crashed = start_tracking("mlflow", directory=tmp_path, run_name="crash", config={})
    crashed.finish({})  # no EndEvent: the training raised
    client = _client(tmp_path)
    assert [client.get_run(t.run_id).info.status for t in (diverged, crashed)] == ["FAILED", "FAILED"]


def test_an_unknown_tracker_is_refused_in_one_line_naming_the_known_ones():
    with pytest.raises(ConfigError, match=r"^unknown tracker 'wandb' in report_to; known: tensorboard, mlflow$"):
        check_trackers(["tensorboard", "wandb"])
    with pytest.raises(ConfigError, match="unknown tracker 'wandb'"):
        RunConfig(train=TrainSettings(report_to=["wandb"])).validate()
    with pytest.raises(ConfigError, match="report_to must be a list of tracker names"):
        check_trackers([3])


def test_a_tracker_that_is_not_installed_says_what_to_pip_install(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    missing = {"mlflow"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a))
    hint = r"^mlflow is not installed; pip install 'prefix-workbench\[track\]' \(or: pip install mlflow-skinny\)$"
    with pytest.raises(ConfigError, match=hint):
        check_trackers(["tensorboard", "mlflow"])
    with pytest.raises(ConfigError, match=hint):
        start_tracking(["mlflow"], directory=tmp_path, run_name="x", config={})
    # Settings naming it still load (a run.json from a machine that had it): only starting a run needs it.
    assert RunConfig(train=TrainSettings(report_to=["mlflow"])).validate().train.report_to == ["mlflow"]
    missing = {"sqlalchemy"}  # mlflow-skinny alone cannot open the local SQLite store
    with pytest.raises(ConfigError, match=r"^the local MLflow store needs sqlalchemy; pip install .*tracking_uri$"):
        start_tracking(["mlflow"], directory=tmp_path, run_name="x", config={})


def test_report_to_is_normalised_and_round_trips_through_json():
    cfg = RunConfig(train=TrainSettings(report_to=[" TensorBoard", "mlflow", "tensorboard"], tracking_dir="t",
                                        tracking_uri="http://localhost:5000")).validate()  # fmt: skip
    assert cfg.train.report_to == ["tensorboard", "mlflow"]
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert RunConfig.from_dict(RunConfig().to_dict()).train.report_to == []
    assert check_trackers("mlflow, tensorboard") == ["mlflow", "tensorboard"]


def test_settings_with_trackers_validate_without_loading_torch_or_any_tracker():
    code = (
        "import sys; from workbench.config import RunConfig, TrainSettings; "
        "RunConfig(train=TrainSettings(report_to=['tensorboard', 'mlflow'])).validate(); "
        "print(sorted(m for m in ('torch', 'tensorboard', 'mlflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_cli_reports_to_tensorboard_and_says_where(tmp_path, capsys):
    from workbench.cli import main

    out, logs = tmp_path / "run", tmp_path / "logs"
    argv = ["train", "--model", "tiny-demo", "--steps", "4", "--max-train-examples", "32", "--eval-every", "2",
            "--out", str(out), "--report-to", "tensorboard", "--tracking-dir", str(logs)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "tracked: TensorBoard: tensorboard --logdir" in printed
    folder = next(p.parent for p in logs.rglob("events.out.tfevents.*"))
    assert [step for step, _ in _scalars(folder, "train/loss")] == [1, 2, 3, 4]


def test_the_cli_refuses_a_missing_tracker_before_training(tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(out), "--report-to", "mlflow"]) == 2
    err = capsys.readouterr().err
    assert "mlflow is not installed; pip install 'prefix-workbench[track]'" in err and err.count("\n") == 1
    assert main(["train", "--steps", "2", "--out", str(out), "--report-to", "wandb"]) == 2
    assert "unknown tracker 'wandb'" in capsys.readouterr().err
    assert not out.exists()


def test_the_panel_setting_reaches_the_run_and_the_code(make_config):
    from workbench.ui.controls import Controls, code_for

    controls = Controls(make_config())
    controls.report_to.value = ("tensorboard",)
    config = controls.config()
    assert config.train.report_to == ["tensorboard"]
    assert "--report-to tensorboard" in code_for(config)
    controls.set_config(RunConfig())
    assert controls.report_to.value == ()
