"""Sweeps on Optuna: the search space as text, a pruned study, resume after a stop or a kill, the best run
directory, one-line refusals that write nothing, and a diverging trial that fails while the study goes on."""

import json
import subprocess
import sys
import threading

import pytest
import torch

from workbench import Run, RunConfig
from workbench.errors import ConfigError
from workbench.history import StepEvent
from workbench.sweeps import parse_space, sweep, sweep_figures

optuna = pytest.importorskip("optuna")

SPACE = ["lr=1e-4:3e-1:log", "prefix_length=2,8"]


def _config(seed: int = 7, steps: int = 30) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name = "tiny-demo"
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.data.max_length = 64, 16, 96
    cfg.train.steps, cfg.train.warmup_steps, cfg.train.eval_every = steps, 2, 10
    cfg.train.eval_generate, cfg.train.max_new_tokens, cfg.train.seed, cfg.train.device = 16, 20, seed, "cpu"
    return cfg


def _trial_dirs(out):
    return {p.name for p in out.glob("trial-*") if (p / "run.json").is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s"
    seen = []
    # Seed 7: TPE's first draw is a learning rate too small to learn in 30 steps (it completes: the median
    # pruner waits for two finished trials), and later small ones are pruned at their first evaluation.
    result = sweep(_config(), SPACE, trials=6, out=out, on_trial=seen.append)
    return result, out, seen


def test_parse_space_reads_ranges_and_choices_as_the_settings_types():
    space = parse_space(["lr=1e-4:1e-1:log", "prefix_length=1,5,10,20", "steps=20:80", "init=random,text",
                         "projection=true,false", "train.weight_decay=0:0.1", "warmup-steps=none,2"])  # fmt: skip
    lr, length, steps, init, projection, decay, warmup = space
    assert (lr.path, lr.kind, lr.low, lr.high, lr.log) == ("train.lr", "float", 1e-4, 1e-1, True)
    assert length.path == "prefix.length" and length.choices == (1, 5, 10, 20)
    assert all(type(c) is int for c in length.choices)
    assert (steps.kind, steps.low, steps.high, steps.log) == ("int", 20, 80, False)
    assert type(steps.low) is int and init.choices == ("random", "text") and projection.choices == (True, False)
    assert (decay.name, decay.path, decay.kind) == ("train.weight_decay", "train.weight_decay", "float")
    assert (warmup.path, warmup.choices) == ("train.warmup_steps", (None, 2))
    assert space.specs[0] == "lr=1e-4:1e-1:log"
    cfg = space.apply(_config(), {"lr": 0.02, "prefix_length": 5, "init": "random"})
    assert (cfg.train.lr, cfg.prefix.length, cfg.prefix.init) == (0.02, 5, "random")


def test_importing_the_package_and_parsing_a_space_import_neither_optuna_nor_torch():
    code = ("import sys, workbench.sweeps as s; s.parse_space(['lr=1e-4:1e-1:log', 'prefix_length=2,8']); "
            "print('optuna' in sys.modules, 'torch' in sys.modules)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("lr", "is not NAME=LOW:HIGH[:log] or NAME=A,B,...; write e.g. lr=1e-4:1e-1:log"),
        ("lr=", "is not NAME=LOW:HIGH"),
        ("lr=1e-4:1e-1:lin", "write e.g. lr=1e-4:1e-1:log"),
        ("lr=a:b", "'a' is not a number"),
        ("prefix_length=2,,8", "has an empty choice; write e.g. prefix_length=2,8"),
        ("dropout=0.1,0.2", "unknown parameter 'dropout'; use one of"),
        ("train.nonsense=1,2", "unknown parameter 'train.nonsense'"),
        ("lr=1e-1:1e-4", "is an empty range (1e-1 is not below 1e-4); write lr=0.0001:0.1"),
        ("steps=50:50", "is an empty range"),
        ("lr=0:1e-1:log", "a log range needs a low end above 0"),
        ("prefix_length=0,5", "PrefixSettings.length is 0; allowed range is [1, 2048]"),
        ("lr=1e-4:20", "TrainSettings.lr is 20.0; allowed range is (0, 10]"),
        ("steps=1.5:8", "steps takes whole numbers"),
        ("init=1:3", "takes choices, not a range"),
        ("projection=maybe", "is a switch; write projection=true,false"),
        ("model.name=tiny-demo,tiny-gpt2", "cannot vary; run one sweep per choice"),
        ("data.validation_fraction=0.1,0.3", "same validation rows, so data.validation_fraction cannot vary"),
        ("train.seed=0,1", "train.seed cannot vary"),
        ("init=random,text", "does not fit these settings: prefix init 'text' needs init_text"),
    ],
)
def test_a_bad_space_is_one_line_naming_the_spec_and_nothing_is_written(tmp_path, spec, says):
    out = tmp_path / "s"
    with pytest.raises(ConfigError) as info:
        sweep(_config(), [spec], trials=2, out=out)
    message = str(info.value)
    assert says in message and repr(spec) in message and "\n" not in message
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [({"trials": 0}, "trials must be a whole number of at least 1"), ({"pruner": "hyperband"}, "pruner 'hyperband'")],
)
def test_bad_sweep_settings_are_refused_before_anything_is_written(tmp_path, kwargs, says):
    with pytest.raises(ConfigError, match=says):
        sweep(_config(), SPACE, out=tmp_path / "s", **{"trials": 2, **kwargs})
    assert not (tmp_path / "s").exists()


def test_without_optuna_the_sweep_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now raises ImportError
    with pytest.raises(ConfigError, match=r"^optuna is not installed; pip install 'prefix-workbench\[sweep\]'$"):
        sweep(_config(), SPACE, trials=2, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_a_pruned_sweep_finds_a_clearly_better_trial_and_records_every_one(finished):
    result, out, seen = finished
    assert [t.number for t in seen] == list(range(6)) and len(result.trials) == 6
    assert (result.metric, result.direction) == ("slot_coverage", "maximize")
    states = [t.state for t in result.trials]
    assert states.count("pruned") >= 1 and states.count("complete") >= 2 and "fail" not in states
    complete = [t for t in result.trials if t.state == "complete"]
    assert result.best.value == max(t.value for t in complete)
    assert result.best.value >= min(t.value for t in complete) + 0.2  # a tiny learning rate barely learns
    assert result.best.params["lr"] > 1e-3
    pruned = next(t for t in result.trials if t.state == "pruned")
    assert pruned.note.startswith("pruned at step") and pruned.train_s > 0
    # Every trial is a normal run directory; a pruned one stopped at its first evaluation.
    assert _trial_dirs(out) == {f"trial-{n:03d}" for n in range(6)}
    history = json.loads((out / f"trial-{pruned.number:03d}" / "run.json").read_text())["history"]
    assert history["ends"][-1]["reason"] == "stopped" and history["steps"][-1]["step"] < 30
    assert result.storage == f"sqlite:///{(out / 'study.db').resolve()}"
    assert result.train_s > 0 and result.overhead > 1.0
    table = result.format_table()
    assert f"{result.best.number:>5}*" in table and "pruned" in table and "overhead" in table


def test_sweep_json_follows_the_study(finished):
    result, out, _ = finished
    info = json.loads((out / "sweep.json").read_text())
    assert info["space"] == SPACE and info["metric"] == "slot_coverage" and info["best"] == result.best.number
    assert [(t["number"], t["state"], t["params"], t["value"]) for t in info["trials"]] == [
        (t.number, t.state, t.params, t.value) for t in result.trials
    ]
    assert all(t["path"] == f"trial-{t['number']:03d}" and t["duration_s"] > 0 for t in info["trials"])
    assert json.dumps(result.to_dict())  # plain JSON for a front end


def test_the_best_run_directory_loads_with_the_workbench_and_with_plain_peft(finished):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from workbench.models import builtin_path

    result, out, _ = finished
    run = Run.load(out / "best")
    assert run.config.train.lr == result.best.params["lr"]
    assert run.config.prefix.length == result.best.params["prefix_length"]
    base = AutoModelForCausalLM.from_pretrained(str(builtin_path("tiny-demo")))
    plain = PeftModel.from_pretrained(base, str(out / "best" / "adapter")).eval()
    assert plain.peft_config["default"].num_virtual_tokens == result.best.params["prefix_length"]
    ids = run.tokenizer("name[Aromi] food[Italian] ->", return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(plain(**ids).logits, run.model.eval()(**ids).logits, atol=1e-5)


def test_figures_of_the_sweep(finished, tmp_path):
    _, out, _ = finished
    with pytest.raises(ConfigError, match="holds no sweep"):
        sweep_figures(tmp_path)
    figures, skipped = sweep_figures(out)
    assert {"history", "parallel", "curves"} <= figures.keys()
    assert "importances" in figures or "importances" in skipped
    assert len(figures["curves"].data) == 6 and figures["curves"].layout.yaxis.title.text == "slot_coverage"


def test_a_resumed_sweep_runs_only_the_missing_trials_and_reruns_interrupted_ones(tmp_path, monkeypatch):
    out = tmp_path / "s"
    cfg = _config(seed=0, steps=20)
    first = sweep(cfg, SPACE, trials=3, out=out, pruner="none")
    assert _trial_dirs(out) == {"trial-000", "trial-001", "trial-002"} and not first.stopped
    stamps = {p.name: (p / "run.json").stat().st_mtime_ns for p in out.glob("trial-*")}
    with pytest.raises(ConfigError, match=r"exists; pass resume=True \(CLI: --resume\)"):
        sweep(cfg, SPACE, trials=5, out=out)
    with pytest.raises(ConfigError, match="searched lr=1e-4:3e-1:log prefix_length=2,8; resume it with that space"):
        sweep(cfg, ["lr=1e-3:1e-1"], trials=5, out=out, resume=True)

    # Resume to 5, with a stop request in the middle of the second new trial (as the CLI's Ctrl-C or the
    # panel's Stop button would send).
    stop, trained = threading.Event(), []
    train = Run.train

    def train_with_a_stop(self, callbacks=(), **kwargs):
        trained.append(self)
        halt = [lambda e: stop.set() if isinstance(e, StepEvent) and e.step == 5 and len(trained) == 2 else None]
        return train(self, [*callbacks, *halt], **kwargs)

    monkeypatch.setattr(Run, "train", train_with_a_stop)
    second = sweep(cfg, SPACE, trials=5, out=out, resume=True, pruner="none", stop=stop)
    monkeypatch.undo()
    assert second.stopped and len(trained) == 2
    assert [(t.number, t.state) for t in second.trials][3:] == [(3, "complete"), (4, "fail")]
    assert second.trials[4].note == "interrupted"
    assert [t.params for t in second.trials[:3]] == [t.params for t in first.trials]
    assert _trial_dirs(out) == {f"trial-{n:03d}" for n in range(5)}

    # A kill in the middle of a trial leaves it running in the storage.
    killed = optuna.load_study(study_name="sweep", storage=second.storage).ask()
    third = sweep(cfg, SPACE, trials=5, out=out, resume=True, pruner="none")
    assert [(t.number, t.state) for t in third.trials][4:] == [(4, "fail"), (killed.number, "fail"), (6, "complete")]
    assert _trial_dirs(out) - {f"trial-{n:03d}" for n in range(5)} == {"trial-006"}  # one new trial, no repeat
    assert {p: (out / p / "run.json").stat().st_mtime_ns for p in stamps} == stamps
    assert sum(t.state == "complete" for t in third.trials) == 5


def test_a_diverging_trial_fails_and_the_study_goes_on(tmp_path, monkeypatch):
    # AdamW keeps tiny-demo's loss finite at every learning rate the settings allow (up to 10), so a trial
    # diverges here by decree: its logged loss turns NaN once its learning rate is 9.
    from workbench.train import Trainer

    log = Trainer._log

    def diverge(self, clock, start):
        event = log(self, clock, start)
        if self.settings.lr >= 9 and event.step >= 3:
            event.loss = float("nan")
        return event

    monkeypatch.setattr(Trainer, "_log", diverge)
    out = tmp_path / "s"
    result = sweep(_config(seed=1, steps=10), ["lr=0.03,9"], trials=3, out=out, pruner="none")
    states = [(t.params["lr"], t.state) for t in result.trials]
    failed = [n for n, t in enumerate(result.trials) if t.state == "fail"]
    assert failed and failed[0] < len(states) - 1, states  # a later trial ran after the failure
    assert all(s == ("fail" if lr == 9 else "complete") for lr, s in states)
    assert "loss became nan" in result.trials[failed[0]].note and result.trials[failed[0]].value is None
    assert result.best.params["lr"] == 0.03
    info = json.loads((out / "sweep.json").read_text())
    assert info["trials"][failed[0]]["state"] == "fail" and info["trials"][failed[0]]["value"] is None


def test_a_trial_out_of_memory_fails_with_its_reason_and_the_study_goes_on(tmp_path, monkeypatch):
    # The device "runs out" for batches of more than 8 rows: the trials at batch size 16 end out of memory.
    import workbench.train

    loss = workbench.train.batch_loss

    def small_batches_only(model, batch, objective):
        if batch["input_ids"].shape[0] > 8:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return loss(model, batch, objective)

    monkeypatch.setattr(workbench.train, "batch_loss", small_batches_only)
    out = tmp_path / "s"
    result = sweep(_config(seed=1, steps=6), ["batch_size=4,16"], trials=3, out=out, pruner="none")
    states = {(t.params["batch_size"], t.state) for t in result.trials}
    assert states == {(4, "complete"), (16, "fail")}, states
    failed = next(t for t in result.trials if t.state == "fail")
    assert failed.note.startswith("out of memory at step 1 with batch size 16") and failed.value is None
    assert Run.load(failed.path).history.ends[-1].reason == "out-of-memory"  # its directory is written too
    assert result.best.params["batch_size"] == 4


def test_the_cli_sweeps_reports_each_trial_to_its_own_tracked_run_and_writes_the_figures(tmp_path, capsys):
    from workbench.cli import main

    out, logs = tmp_path / "cli", tmp_path / "logs"
    argv = ["sweep", "--space", "lr=1e-2:1e-1:log", "--trials", "2", "--model", "tiny-demo", "--steps", "10",
            "--eval-every", "5", "--max-train-examples", "32", "--out", str(out), "--report-to", "tensorboard",
            "--tracking-dir", str(logs)]  # fmt: skip
    assert main([*argv, "--resume"]) == 0  # nothing to resume yet: it starts, and says so
    printed = capsys.readouterr().out
    assert "(nothing to resume there: a new sweep)" in printed.splitlines()[0]
    assert "trial 0: " in printed and "trial 1: " in printed and f"best run: {out / 'best'}" in printed
    assert (out / "sweep.html").is_file() and (out / "best" / "run.json").is_file()
    # One experiment for the sweep, one tracked run per trial.
    assert sorted(p.name for p in (logs / "tensorboard" / "sweep-cli").iterdir()) == ["trial-000", "trial-001"]
    assert main([*argv[:-4], "--resume"]) == 0  # both trials done: nothing more to run
    printed = capsys.readouterr().out
    assert "trial 2" not in printed and "nothing to resume" not in printed


@pytest.mark.parametrize(("extra", "says"), [
    (["--space", "lr=0.1:0.01"], "lr=0.1:0.01"),
    (["--space", "colour=red,blue"], "colour"),
    (["--space", "lr=1e-3:1e-1", "--report-to", "wandb"], "unknown tracker 'wandb'"),
    (["--space", "lr=1e-3:1e-1", "--resume"], "--resume needs the --out folder"),
])  # fmt: skip
def test_the_cli_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, extra, says):
    from workbench.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["sweep", *extra]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_a_resume_with_other_settings_is_refused_and_best_follows_the_study(tmp_path, monkeypatch):
    out = tmp_path / "s"
    first = sweep(_config(steps=10), ["lr=1e-2:1e-1:log"], trials=2, out=out)
    assert first.best is not None
    other = _config(steps=10)
    other.prefix.length = 7
    with pytest.raises(ConfigError, match=r"ran other settings \(prefix.length: 10 -> 7\)"):
        sweep(other, ["lr=1e-2:1e-1:log"], trials=3, out=out, resume=True)
    # A sweep begun before a setting existed (its record lacks prefix.dropout) resumes with that setting's default.
    record = json.loads((out / "sweep.json").read_text())
    del record["config"]["prefix"]["dropout"]
    (out / "sweep.json").write_text(json.dumps(record))
    assert len(sweep(_config(steps=10), ["lr=1e-2:1e-1:log"], trials=2, out=out, resume=True).trials) == 2
    # A kill between a trial's end and the copy to best/ leaves best/ behind the study: a resume puts it right.
    import shutil

    shutil.rmtree(out / "best")
    again = sweep(_config(steps=10), ["lr=1e-2:1e-1:log"], trials=2, out=out, resume=True)
    assert again.best.number == first.best.number
    best_trial = out / f"trial-{first.best.number:03d}"
    assert (out / "best" / "run.json").read_bytes() == (best_trial / "run.json").read_bytes()


def test_the_value_is_the_final_evaluation_the_exported_prefix_scored(finished):
    result, out, _ = finished
    for trial in (t for t in result.trials if t.state == "complete"):
        info = json.loads((out / f"trial-{trial.number:03d}" / "run.json").read_text())
        assert trial.value == pytest.approx(info["history"]["evals"][-1]["metrics"][result.metric])


def test_a_disk_that_refuses_a_trial_stops_the_sweep_and_resume_runs_it_again(tmp_path, monkeypatch):
    from workbench.errors import WriteError
    from workbench.run import Run as RunClass

    out = tmp_path / "s"
    real = RunClass.export
    monkeypatch.setattr(RunClass, "export", lambda self, *a, **k: (_ for _ in ()).throw(WriteError("disk full")))
    with pytest.raises(WriteError, match="disk full"):
        sweep(_config(steps=10), ["lr=1e-2:1e-1:log"], trials=2, out=out)
    monkeypatch.setattr(RunClass, "export", real)
    result = sweep(_config(steps=10), ["lr=1e-2:1e-1:log"], trials=2, out=out, resume=True)
    assert [t.state for t in result.trials] == ["fail", "complete", "complete"]  # the refused one ran again


def test_the_sweep_record_round_trips_with_nan_and_paths_and_refuses_a_foreign_file(tmp_path):
    import math

    from workbench.sweeps import SWEEP_FILE, SweepRecord, TrialSummary, read_sweep
    from workbench.sweeps.record import write_sweep

    assert read_sweep(tmp_path) is None  # nothing written yet
    trials = [TrialSummary(0, "complete", {"lr": 0.01}, 0.5, 1.0, str(tmp_path / "trial-000"), 2.0),
              TrialSummary(1, "fail", {"lr": 9.0}, math.nan, 0.0, None, 0.1, "loss became nan")]  # fmt: skip
    record = SweepRecord(["lr=1e-3:1e-1:log"], "bleu", "maximize", 5, trials, 0, {"train": {"steps": 3}})
    write_sweep(tmp_path, record)
    assert '"trial-000"' in (tmp_path / SWEEP_FILE).read_text()  # stored by name: the folder can move
    back = read_sweep(tmp_path)
    assert math.isnan(back.trials[1].value) and back.trials[0] == trials[0] and back.completed() == 1
    assert (back.space, back.best, back.config) == (record.space, 0, record.config)
    (tmp_path / SWEEP_FILE).write_text('{"format": "something else"}')
    with pytest.raises(ConfigError, match="not a sweep record"):
        read_sweep(tmp_path)
