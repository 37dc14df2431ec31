"""Hyperparameter sweeps on Optuna: many runs of one config over a search space, on one loaded base.

:func:`sweep` asks Optuna's TPE sampler (seeded from ``train.seed``) for settings, trains each
trial as a normal :class:`~workbench.run.Run` on the frozen base loaded once, writes it as
``trial-NNN/`` and ranks it by the run's headline metric at its final evaluation (the prefix its
run directory holds; a completed run always ends with one), in the metric's own direction
(validation loss, minimized, when the data has no metric). Every evaluation feeds a pruner that
stops unpromising trials early; a diverging trial is recorded as failed and the sweep
goes on. The study lives in ``study.db`` (Optuna's SQLite storage) in the sweep folder, so a stopped
or killed sweep resumes without repeating finished trials; ``sweep.json`` (rewritten after every
trial) and ``best/`` (the best trial's run directory) sit beside it. This module prints and draws
nothing (figures: :mod:`.figures`); the CLI and the panel are its front ends.
"""

from __future__ import annotations

import copy
import math
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import CompatibilityError, ConfigError, DataError, TrainingError, WorkbenchError
from ..metrics import metric_info
from ._backend import quiet_optuna, require_optuna
from .record import SWEEP_FILE, SweepRecord, TrialSummary, read_sweep, write_sweep
from .space import SearchSpace, parse_space

__all__ = ["BEST_DIR", "PRUNERS", "STUDY_FILE", "STUDY_NAME", "SWEEP_FILE", "SweepResult", "TrialSummary", "sweep"]

STUDY_NAME = "sweep"
STUDY_FILE = "study.db"
BEST_DIR = "best"
PRUNERS = ("median", "halving", "none")
# The note a trial carries until it ends on its own; one still carrying it did not finish and is not "done".
_INTERRUPTED = "interrupted"


@dataclass
class SweepResult:
    """Every trial of the study (earlier calls' too), the best one, and what this call cost."""

    trials: list[TrialSummary]
    best: TrialSummary | None
    direction: str
    metric: str
    storage: str
    out: str
    specs: list[str] = field(default_factory=list)
    wall_s: float = 0.0  # this call, loading the base included
    train_s: float = 0.0  # the training time of the trials this call ran
    stopped: bool = False  # ended by the stop flag before all trials ran

    @property
    def overhead(self) -> float:
        """Sweep wall time over the time its trials spent training (1.0: nothing but training)."""
        return self.wall_s / self.train_s if self.train_s > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "overhead": self.overhead}

    def format_table(self) -> str:
        """A plain-text table, one row per trial (the best marked ``*``), and a summary line."""
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        widths = [max(len(n), 10) for n in names]
        metric = max(len(self.metric), 8)
        head = f"{'trial':>6}  {'state':<9}{self.metric:>{metric}}{'train s':>9}  " + "".join(
            f"{n:<{w + 2}}" for n, w in zip(names, widths)
        )
        lines = [head + "note", "-" * (len(head) + 4)]
        for t in self.trials:
            mark = "*" if self.best is not None and t.number == self.best.number else " "
            cells = "".join(f"{_fmt(t.params.get(n, '')):<{w + 2}}" for n, w in zip(names, widths))
            value = _fmt(t.value) if t.value is not None else "-"
            lines.append(f"{t.number:>5}{mark}  {t.state:<9}{value:>{metric}}{t.train_s:>9.1f}  {cells}{t.note[:60]}")
        counts = {s: sum(t.state == s for t in self.trials) for s in ("complete", "pruned", "fail")}
        best = (f"best: trial {self.best.number}, {self.metric} {_fmt(self.best.value)} ({self.direction})"
                if self.best else "best: none yet")  # fmt: skip
        overhead = f"; overhead {self.overhead:.2f}x" if math.isfinite(self.overhead) else ""  # nothing ran
        lines.append(f"{best}; {counts['complete']} complete, {counts['pruned']} pruned, {counts['fail']} failed"
                     f"{overhead}")  # fmt: skip
        return "\n".join(lines)


def sweep(
    config: RunConfig,
    space: SearchSpace | Sequence[str],
    *,
    trials: int,
    out: str | Path,
    resume: bool = False,
    pruner: str = "median",
    on_trial: Callable[[TrialSummary], None] | None = None,
    stop: threading.Event | None = None,
) -> SweepResult:
    """Run ``trials`` trials of ``config`` over ``space`` into the folder ``out``; see the module doc.

    ``resume``: continue the study in ``out``, running only the trials it lacks (trials a kill left
    running are marked failed and run again). ``pruner``: ``median``, ``halving`` (successive halving)
    or ``none``. ``on_trial`` gets each trial's summary as it ends. Setting ``stop`` ends the trial in
    progress at its next step and the sweep after it; that trial is not counted as done.
    """
    start = time.perf_counter()
    space = space if isinstance(space, SearchSpace) else parse_space(space)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"trials must be a whole number of at least 1, got {trials!r}")
    if pruner not in PRUNERS:
        raise ConfigError(f"pruner {pruner!r} is not one of {', '.join(PRUNERS)}")
    config = copy.deepcopy(config).validate()
    space.check(config)
    out = Path(out).expanduser()
    _check_folder(out, space, config, resume)
    optuna = require_optuna()
    stop = stop or threading.Event()
    shared, data, metric = _load_base(config)
    direction = metric_info(metric).direction if metric != "loss" else "minimize"

    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(out / STUDY_FILE).resolve()}"
    train_s, stopped = 0.0, False
    with quiet_optuna():
        study = optuna.create_study(storage=storage, study_name=STUDY_NAME, direction=direction,
                                    pruner=_pruner(optuna, pruner), load_if_exists=True)  # fmt: skip
        if study.direction.name.lower() != direction:
            raise ConfigError(f"the sweep in {str(out)!r} {study.direction.name.lower()}s; this config's {metric} "
                              f"is to {direction}; choose another folder")  # fmt: skip
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)  # left running by a kill: not done
        existing = study.get_trials(deepcopy=False)
        # Offset by the trials already there: a resumed sampler must not redraw the first call's settings.
        # Fewer random start-up trials than TPE's 10, or a small sweep would never leave them.
        study.sampler = optuna.samplers.TPESampler(seed=config.train.seed + len(existing),
                                                   n_startup_trials=max(2, min(10, trials // 3)))  # fmt: skip
        for _ in range(trials - sum(_is_done(t) for t in existing)):
            if stop.is_set():
                stopped = True
                break
            summary = _run_trial(optuna, study, space, config, shared, data, metric, out, stop)
            train_s += summary.train_s
            _write_sweep(study, out, space, config, metric, direction, trials)
            if on_trial is not None:
                on_trial(summary)
            if summary.note == _INTERRUPTED:
                stopped = True
                break
        _write_sweep(study, out, space, config, metric, direction, trials)
        summaries = [_summary(t, out) for t in study.get_trials()]
    best = _best(study, summaries)
    if best is not None and best.path:
        _sync_best(Path(best.path), out / BEST_DIR)  # a kill between a trial's end and its copy left it behind
    return SweepResult(summaries, best, direction, metric, storage, str(out), space.specs,
                       time.perf_counter() - start, train_s, stopped)  # fmt: skip


def _run_trial(optuna: Any, study: Any, space: SearchSpace, config: RunConfig, shared: Any, data: Any,
               metric: str, out: Path, stop: threading.Event) -> TrialSummary:  # fmt: skip
    from ..history import EvalEvent
    from ..run import Run

    State = optuna.trial.TrialState
    trial = study.ask()
    trial.set_user_attr("note", _INTERRUPTED)  # what stays if the process dies before the trial ends
    params = {p.name: p.suggest(trial) for p in space}
    name = f"trial-{trial.number:03d}"
    state, value, note, train_s = State.FAIL, None, "", 0.0
    try:
        settings = space.apply(config, params)
        # The data is loaded once too, unless the trial's settings change how it is read.
        run = Run.create(settings, base=shared, data=data if settings.data == config.data else None)
        run.track_as = (f"sweep-{out.resolve().name}", name)  # trackers: one run per trial, one experiment
        prune = threading.Event()

        def report_to_optuna(event: Any) -> None:
            score = _score(event, metric) if isinstance(event, EvalEvent) else None
            if score is not None and not prune.is_set():
                trial.report(score, event.step)
                if trial.should_prune():
                    prune.set()
                    run.stop()  # this trial only; ``stop`` is the whole sweep's

        began = time.perf_counter()
        try:
            run.train([report_to_optuna], stop=stop)
        finally:
            train_s = time.perf_counter() - began
        run.finish(out / name, checkpoint=False)
        trial.set_user_attr("path", name)
        end = run.history.ends[-1]
        state, note = State[end.ending.trial], "" if end.reason == "completed" else end.summary
        if end.reason == "stopped":  # by the pruner, or the whole sweep was stopped (resume runs it again)
            state, note = (State.PRUNED, f"pruned at step {end.step}") if prune.is_set() else (State.FAIL, _INTERRUPTED)
        elif state == State.COMPLETE:
            value = _score(run.history.evals[-1], metric) if run.history.evals else None
            state, note = (State.COMPLETE, "") if value is not None else (State.FAIL, f"no finite {metric}")
    except (ConfigError, CompatibilityError, DataError, TrainingError) as exc:
        note = str(exc)  # settings the sampler combined badly, a precision the device lacks: this trial only
    except WorkbenchError:  # the disk, a tracker's server: not the trial's settings; resume runs it again
        trial.set_user_attr("train_s", train_s)
        study.tell(trial, state=State.FAIL)
        raise
    except BaseException:
        trial.set_user_attr("train_s", train_s)
        study.tell(trial, state=State.FAIL)
        raise
    trial.set_user_attr("train_s", train_s)
    trial.set_user_attr("note", note)
    study.tell(trial, value, state=state)
    if state == State.COMPLETE and study.best_trial.number == trial.number:
        _replace_dir(out / name, out / BEST_DIR)
    return _summary(study.get_trials(deepcopy=False)[trial.number], out)


def _score(event: Any, metric: str) -> float | None:
    value = event.loss if metric == "loss" else event.metrics.get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def _is_done(trial: Any) -> bool:
    state = trial.state.name
    # A failed trial without a note was killed before it could write one.
    return state in ("COMPLETE", "PRUNED") or (state == "FAIL" and _note(trial) != _INTERRUPTED)


def _note(trial: Any) -> str:
    return trial.user_attrs.get("note", _INTERRUPTED if trial.state.name == "FAIL" else "")


def _summary(trial: Any, out: Path) -> TrialSummary:
    attrs = trial.user_attrs
    state = trial.state.name.lower()
    value = trial.value if state in ("complete", "pruned") else None
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    path = str(out / attrs["path"]) if attrs.get("path") else None
    return TrialSummary(trial.number, state, dict(trial.params), value, float(attrs.get("train_s", 0.0)), path,
                        duration, _note(trial) if state != "running" else "")  # fmt: skip


def _best(study: Any, summaries: list[TrialSummary]) -> TrialSummary | None:
    try:
        number = study.best_trial.number
    except ValueError:  # no completed trial yet
        return None
    return next(s for s in summaries if s.number == number)


def _write_sweep(study: Any, out: Path, space: SearchSpace, config: RunConfig, metric: str, direction: str,
                 wanted: int) -> None:  # fmt: skip
    summaries = [_summary(t, out) for t in study.get_trials()]
    best = _best(study, summaries)
    write_sweep(
        out,
        SweepRecord(
            space.specs,
            metric,
            direction,
            wanted,
            summaries,
            best.number if best else None,
            config.to_dict(),
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            STUDY_FILE,
            STUDY_NAME,
        ),
    )


def _sync_best(trial: Path, best: Path) -> None:
    same = (best / "run.json").is_file() and (trial / "run.json").is_file() and (
        (best / "run.json").read_bytes() == (trial / "run.json").read_bytes())  # fmt: skip
    if not same and trial.is_dir():
        _replace_dir(trial, best)


def _replace_dir(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` so that a kill leaves the old copy or the new one, never half of one."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _check_folder(out: Path, space: SearchSpace, config: RunConfig, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{str(out)!r} is a file; give a folder for the sweep")
    if not out.exists() or not any(out.iterdir()):
        return  # resume=True there starts the sweep: a notebook cell run again continues it
    if not resume:
        raise ConfigError(f"{str(out)!r} exists; pass resume=True (CLI: --resume) to continue its sweep, or "
                          "another folder")  # fmt: skip
    if not (out / STUDY_FILE).is_file():
        raise ConfigError(f"{str(out)!r} holds no sweep ({STUDY_FILE} is missing); choose another folder")
    record = read_sweep(out)
    if record is None:
        return  # killed before its first trial ended: the study alone says what was done
    if record.space != space.specs:
        raise ConfigError(f"the sweep in {str(out)!r} searched {' '.join(record.space)}; resume it with that space "
                          "or choose another folder")  # fmt: skip
    if record.config:
        # Read as today's settings: a setting added since the sweep began has its default there, a local path
        # is absolute as a run keeps it now.
        saved = RunConfig.from_dict(record.config).validate().to_dict()
        changed = _changed_settings(saved, config.to_dict(), {p.path for p in space})
        if changed:
            raise ConfigError(f"the sweep in {str(out)!r} ran other settings ({', '.join(changed[:4])}); resume it "
                              "with the same settings, or choose another folder")  # fmt: skip


# Settings that change where a run is logged or how often, not what it learns: a resume may change them.
_NEUTRAL = {"train.report_to", "train.tracking_dir", "train.tracking_uri", "train.device", "train.log_every",
            "train.log_every_s", "train.checkpoint_every"}  # fmt: skip


def _changed_settings(saved: dict[str, Any], now: dict[str, Any], searched: set[str]) -> list[str]:
    """``section.field: saved -> now`` for each setting that differs, leaving out what the space searches."""
    return [f"{section}.{key}: {saved.get(section, {}).get(key)!r} -> {value!r}"
            for section, values in now.items() for key, value in values.items()
            if f"{section}.{key}" not in searched | _NEUTRAL and saved.get(section, {}).get(key) != value]  # fmt: skip


def _load_base(config: RunConfig) -> tuple[Any, Any, str]:
    """The frozen base every trial shares (where it can; ``Run.create`` decides), the data, the metric to rank by."""
    from ..data import load_task_data
    from ..models import load_model

    data = load_task_data(config.data, seed=config.train.seed)
    loaded = load_model(config.model, data.kind, label_names=data.label_names)
    return loaded, data, (data.metric or "loss")


def _pruner(optuna: Any, name: str) -> Any:
    if name == "median":
        # Two finished trials are enough to compare against: sweeps here are short.
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
