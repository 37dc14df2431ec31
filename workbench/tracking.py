"""Training runs logged where people already look: TensorBoard event files and MLflow runs.

A :class:`Tracking` is a training callback that sends every logged step (loss, learning rate,
tokens/s), every evaluation (loss and numeric metrics, per-task ones as ``task/metric``), the
run's settings (as ``section.key`` params) and its final metrics to the trackers named in
``report_to`` (:data:`TRACKERS`), each through the library's own writer: torch's
``SummaryWriter`` for TensorBoard and an ``MlflowClient`` with an explicit run id for MLflow
(no global active run, so several runs can be tracked at once, e.g. a sweep's trials). MLflow
writes to ``tracking_uri`` when given, else to a local SQLite store ``<directory>/mlflow.db``:
MLflow 3.17 refuses its file store unless ``MLFLOW_ALLOW_FILE_STORE`` is set, and SQLite needs
SQLAlchemy and alembic, which mlflow-skinny does not bring (the ``track`` extra does; browsing
it with ``mlflow ui`` needs the full ``mlflow`` package). This module is not a tracker and
not a record of the run: it writes no format of its own, and the run directory
(:mod:`workbench.rundir`) stays the workbench's own record whether or not anything is tracked.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shlex
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, one_line
from .history import Callback, EndEvent, EvalEvent, Event, StepEvent
from .process_state import held_logger_level

if TYPE_CHECKING:
    from .run import Run

__all__ = [
    "DEFAULT_DIR",
    "DEFAULT_EXPERIMENT",
    "TRACKERS",
    "Tracker",
    "Tracking",
    "check_trackers",
    "start_tracking",
    "tracked",
]

DEFAULT_DIR = "runs/tracking"
DEFAULT_EXPERIMENT = "prefix-workbench"
_EXTRA = "pip install 'prefix-workbench[track]'"
# Experiment lookup-or-create and first-use schema migrations must not race between threads (sweeps).
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Tracker:
    """A known tracker: the modules it needs, what to pip install for them, and how to start one run of it."""

    modules: tuple[str, ...]
    packages: str
    start: Callable[..., Any]

    def installed(self) -> bool:
        # find_spec answers without importing, so checking settings stays instant.
        return all(importlib.util.find_spec(m) is not None for m in self.modules)


class _TensorBoard:
    def __init__(self, directory: Path, run_name: str, experiment: str, tracking_uri: str | None,
                 params: dict[str, Any]) -> None:  # fmt: skip
        from torch.utils.tensorboard import SummaryWriter

        root = directory / "tensorboard"
        self.logdir = _claim(root / _slug(experiment) / _slug(run_name))
        self.params = params
        self.writer = SummaryWriter(str(self.logdir), flush_secs=10)  # 10 s: a live TensorBoard keeps up
        self.where = f"TensorBoard: tensorboard --logdir {shlex.quote(str(root))}"

    def log(self, metrics: dict[str, float], step: int) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)

    def close(self, final: dict[str, float], step: int, status: str) -> None:
        from torch.utils.tensorboard.summary import hparams

        # The HParams tab lists the settings next to the final metrics.
        for summary in hparams({k: _plain(v) for k, v in self.params.items()}, final):
            self.writer.file_writer.add_summary(summary, step)
        self.log(final, step)
        self.writer.close()


class _MLflow:
    def __init__(self, directory: Path, run_name: str, experiment: str, tracking_uri: str | None,
                 params: dict[str, Any]) -> None:  # fmt: skip
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        local = tracking_uri is None
        if local:
            missing = [m for m in ("sqlalchemy", "alembic") if importlib.util.find_spec(m) is None]
            if missing:
                raise ConfigError(f"the local MLflow store needs {' and '.join(missing)}; {_EXTRA} (or: pip install "
                                  f"{' '.join(missing)}), or give a tracking_uri")  # fmt: skip
            directory.mkdir(parents=True, exist_ok=True)
            tracking_uri = "sqlite:///" + (directory.resolve() / "mlflow.db").as_posix()
        self.tracking_uri: str = tracking_uri  # type: ignore[assignment]
        with _LOCK, _quiet_logs("mlflow", "alembic"):  # schema creation logs INFO lines on first use
            self.client = MlflowClient(self.tracking_uri)
            found = self.client.get_experiment_by_name(experiment)
            # A local store keeps artifacts beside it rather than in ./mlruns of wherever Python was started.
            artifacts = (directory.resolve() / "mlartifacts").as_uri() if local else None
            exp_id = found.experiment_id if found else self.client.create_experiment(experiment, artifacts)
            self.run_id: str = self.client.create_run(exp_id, run_name=run_name).info.run_id
        values = [Param(k, str(_plain(v))[:6000]) for k, v in params.items()]  # MLflow's longest value
        try:
            for i in range(0, len(values), 100):  # MLflow takes at most 100 params per batch
                self.client.log_batch(self.run_id, params=values[i : i + 100])
        except Exception:  # a server that refuses them: leave no run "running" behind
            self.client.set_terminated(self.run_id, "FAILED")
            raise
        self.pending: list[Any] = []
        self.flushed = time.monotonic()
        what = f"mlflow ui --backend-store-uri {shlex.quote(self.tracking_uri)}" if local else self.tracking_uri
        self.where = f"MLflow: {what}"

    def log(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.pending += [Metric(_mlflow_key(k), float(v), now, step) for k, v in metrics.items()]
        # One database write per logged step would slow a fast run down; a few seconds' delay is not seen.
        if len(self.pending) >= 500 or time.monotonic() - self.flushed > 5:
            self.flush()

    def flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:1000], self.pending[1000:]  # at most 1000 metrics per batch
            self.client.log_batch(self.run_id, metrics=batch)
        self.flushed = time.monotonic()

    def close(self, final: dict[str, float], step: int, status: str) -> None:
        self.log(final, step)
        self.flush()
        self.client.set_terminated(self.run_id, status)


TRACKERS: dict[str, Tracker] = {
    "tensorboard": Tracker(("tensorboard",), "tensorboard", _TensorBoard),
    "mlflow": Tracker(("mlflow",), "mlflow-skinny", _MLflow),
}


def check_trackers(names: Iterable[str] | str, *, installed: bool = True) -> list[str]:
    """``names`` (a list, or one comma-separated string) as known tracker names, lower-cased, each once.

    Raises a one-line :class:`ConfigError` for an unknown name and, with ``installed``, for a
    tracker whose package is missing (with what to pip install). Imports nothing.
    """
    items = names.split(",") if isinstance(names, str) else list(names) if isinstance(names, Iterable) else [names]
    if not all(isinstance(n, str) for n in items):
        raise ConfigError(f"report_to must be a list of tracker names ({', '.join(TRACKERS)}), got {names!r}")
    out = list(dict.fromkeys(n.strip().lower() for n in items if n.strip()))
    for name in out:
        if name not in TRACKERS:
            raise ConfigError(f"unknown tracker {name!r} in report_to; known: {', '.join(TRACKERS)}")
        if installed and not TRACKERS[name].installed():
            raise ConfigError(f"{name} is not installed; {_EXTRA} (or: pip install {TRACKERS[name].packages})")
    return out


class Tracking:
    """One tracked run in each chosen tracker; call it with training events, then :meth:`finish` it once.

    A tracker that fails mid-run (a full disk, an unreachable server) warns once and is left out
    from then on: training goes on, its progress is in the run's history either way.
    """

    def __init__(self, writers: dict[str, Any]) -> None:
        self._writers = writers  # the ones still open
        self._step = 0
        self.end: EndEvent | None = None
        self.problems: list[str] = []
        # Where this run is, also after finish (a sweep reports it next to the trial).
        self.where = "; ".join(w.where for w in writers.values())  # e.g. "TensorBoard: tensorboard --logdir DIR"
        self.logdir: Path | None = writers["tensorboard"].logdir if "tensorboard" in writers else None
        self.run_id: str | None = writers["mlflow"].run_id if "mlflow" in writers else None
        self.tracking_uri: str | None = writers["mlflow"].tracking_uri if "mlflow" in writers else None

    def __call__(self, event: Event) -> None:
        if isinstance(event, EndEvent):
            self.end = event
            return
        if isinstance(event, StepEvent):
            metrics = {"train/loss": event.loss, "train/lr": event.lr, "train/tokens_per_s": event.tokens_per_s}
        elif isinstance(event, EvalEvent):
            metrics = _numbers({"loss": event.loss, **event.metrics}, "eval/")
        else:
            return
        self._step = event.step
        self._each(lambda w: w.log(metrics, event.step))

    def finish(self, final: Mapping[str, Any] | None = None) -> None:
        """Log ``final`` metrics (as ``final/…``; nested dicts as ``final/task/metric``) and end each tracked run:
        FINISHED after a completed training, KILLED when stopped, FAILED otherwise. Only the first call counts."""
        status = self.end.ending.status if self.end else "FAILED"
        values = _numbers(dict(final or {}), "final/")
        self._each(lambda w: w.close(values, self._step, status))
        self._writers = {}

    def _each(self, act: Callable[[Any], None]) -> None:
        for name, writer in list(self._writers.items()):
            try:
                act(writer)
            except Exception as exc:  # the training matters more than its charts
                del self._writers[name]
                self.problems.append(f"{name}: {one_line(exc)}")
                warnings.warn(f"{name} tracking stopped: {one_line(exc)}", RuntimeWarning, stacklevel=3)


def start_tracking(names: Iterable[str] | str, *, directory: str | Path | None = None, run_name: str,
                   experiment: str = DEFAULT_EXPERIMENT, config: Mapping[str, Any],
                   tracking_uri: str | None = None) -> Tracking:  # fmt: skip
    """Start one run named ``run_name`` in ``experiment`` in each tracker of ``names``, with ``config``
    (``RunConfig.to_dict()``) as its params. ``directory`` (default ``runs/tracking``) holds the
    TensorBoard event files and the local MLflow store; ``tracking_uri`` sends MLflow elsewhere."""
    chosen = check_trackers(names)
    folder = Path(directory or DEFAULT_DIR).expanduser()
    params = _params(config)
    writers: dict[str, Any] = {}
    try:
        for name in chosen:
            writers[name] = TRACKERS[name].start(folder, run_name, experiment, tracking_uri, params)
    except Exception as exc:
        Tracking(writers).finish()  # end what did start, so no run is left "running" in the store
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"could not start {name} tracking: {one_line(exc)}") from None
    return Tracking(writers)


@contextmanager
def tracked(run: Run) -> Iterator[list[Callback]]:
    """The callbacks that track one :meth:`Run.train` call as ``run.config.train.report_to`` asks (none when
    it is empty); on the way out the tracked run gets the last evaluation's metrics (and the test split's,
    as ``test/…``, after a completed training) and ends."""
    settings = run.config.train
    # Only the main process gets events (Trainer._emit); other processes would start empty runs.
    if not settings.report_to or not run.trainer.accelerator.is_main_process:
        yield []
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    experiment, name = run.track_as or (DEFAULT_EXPERIMENT, f"{Path(run.config.model.name).name}-"
                                                            f"{Path(run.config.data.name).name}-{stamp}")  # fmt: skip
    tracking = start_tracking(settings.report_to, directory=settings.tracking_dir, tracking_uri=settings.tracking_uri,
                              run_name=name, experiment=experiment, config=run.config.to_dict())  # fmt: skip
    try:
        yield [tracking]
    finally:
        last = run.history.evals[-1] if run.history.evals else None
        final: dict[str, Any] = {"loss": last.loss, **last.metrics} if last else {}
        if run.test is not None and tracking.end is not None and tracking.end.reason == "completed":
            final["test"] = {"loss": run.test.loss, **run.test.metrics}
        tracking.finish(final)


def _numbers(metrics: Mapping[str, Any], prefix: str) -> dict[str, float]:
    """``metrics`` (numbers, as evaluations give them) named ``prefix + name``; a nested dict (the test split's,
    under ``final/``) flattened to ``prefix + "outer/inner"``."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            out.update(_numbers(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = float(value)
    return out


def _params(config: Mapping[str, Any]) -> dict[str, Any]:
    """``{"train": {"lr": 0.01}}`` as ``{"train.lr": 0.01}``: one level, the sections of a RunConfig."""
    out: dict[str, Any] = {}
    for section, values in config.items():
        if isinstance(values, Mapping):
            out.update({f"{section}.{key}": value for key, value in values.items()})
        else:
            out[section] = values
    return out


def _plain(value: Any) -> int | float | str | bool:
    """A setting as a tracker stores it: numbers, text and flags as they are, anything else (None, lists) as JSON."""
    return value if isinstance(value, int | float | str | bool) else json.dumps(value)


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "run"


def _mlflow_key(key: str) -> str:
    # MLflow refuses keys with characters beyond these; a task's name may have any.
    return re.sub(r"[^\w\-. /]", "_", key)


def _claim(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… when taken: TensorBoard would merge two runs written to one folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = path, 1
    while True:
        try:
            candidate.mkdir()  # atomic: two processes cannot both claim it
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.name}-{n}")


@contextmanager
def _quiet_logs(*names: str) -> Iterator[None]:
    """Warnings and errors only from these loggers for the duration (their INFO chatter is not the user's)."""
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(held_logger_level(name, logging.WARNING))
        yield
