"""The panel's training: Train / Stop, the run thread, and what each training event shows where.

:class:`TrainArea` starts a run — new from the settings, or resumed from a run directory — in a
thread (in the cell on Colab, where Ctrl-C stops it cleanly), keeps the panel's runs (earlier ones
released to their results, so a long session's memory stays flat), and routes the training's
events to the views it is given: the progress line, the loss chart and the runs overlay at a
throttled rate, and at each evaluation the attention onto the prefix and the samples beside the
base model's outputs. It holds no training logic: :meth:`workbench.run.Run.train` does the work
and calls back. Export, settings and the other sections are the panel's.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as w

from .. import plots
from ..config import RunConfig, short_name
from ..history import EndEvent, EvalEvent, Event, StepEvent
from .live import LiveFigure, Throttle
from .loader import import_training_stack, start_work
from .try_area import TryArea
from .views import AttentionView, ProgressView, ResultsView, RunsView, SamplesView, say_failure

if TYPE_CHECKING:  # torch, transformers and peft load in the background, after the panel is shown
    from ..attention import ProbeResult
    from ..run import Run

__all__ = ["TrainArea", "TrainingViews"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingViews:
    """Where a training shows: the views the panel lays out, which this area only draws into."""

    progress: ProgressView
    loss_chart: LiveFigure
    attention: AttentionView
    samples: SamplesView
    results: ResultsView
    runs: RunsView
    try_area: TryArea


def _return_freed_memory() -> None:
    """Hand the memory a finished run freed back to the system (glibc keeps it in per-thread arenas, so a
    session of many runs, each in its own thread, would otherwise grow by several MB a run)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to do
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


class TrainArea:
    """Train and Stop (``buttons``), the panel's runs and the run thread.

    ``new_run(config)`` makes a :class:`~workbench.run.Run` from the settings (or ``config``) on the base the
    panel has loaded. Charts redraw at most every ``chart_interval_s``, and less often when drawing would
    take more than ``chart_budget`` of the wall time (None: every interval, e.g. in tests).
    """

    def __init__(self, views: TrainingViews, new_run: Callable[[RunConfig | None], Run], *, foreground: bool,
                 chart_interval_s: float = 1.0, chart_budget: float | None = 0.04) -> None:  # fmt: skip
        self.views, self.new_run, self.foreground = views, new_run, foreground
        button = w.Layout(width="110px")
        self.train_button = w.Button(description="Train", button_style="success", icon="play", layout=button)
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", layout=button,
                                    disabled=True)  # fmt: skip
        self.buttons = w.HBox([self.train_button, self.stop_button])
        self.train_button.on_click(lambda _b: self.train())
        self.stop_button.on_click(lambda _b: self.stop())
        self.runs: dict[str, Run] = {}
        self.run: Run | None = None
        self.probes: list[ProbeResult] = []  # of the current run, one per evaluation
        self._busy = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._charts_due, self._line_due = Throttle(chart_interval_s, chart_budget), Throttle(0.25)
        self._base_outputs: list[str] | None = None
        self._since = (0, 0.0)  # (step, elapsed_s) the current run's session began at

    @property
    def is_training(self) -> bool:
        return self._busy.locked()

    @property
    def label(self) -> str:
        """The current run's label in the runs overlay ("this run" before the first)."""
        return next((k for k, r in self.runs.items() if r is self.run), "this run")

    def train(self, config: RunConfig | None = None, *, wait: bool = False) -> Run | None:
        """Start a run with the settings (or ``config``); None if it could not start (see the panel's)."""
        return self._start(lambda: self.new_run(config), wait)

    def resume(self, path: str | Path, *, steps: int | None = None, wait: bool = False) -> Run | None:
        """Continue the run saved with a checkpoint in ``path``; ``steps``: a new total."""
        if not str(path).strip():
            self.views.progress.say("type the run directory to resume from", "error")
            return None

        def resumed() -> Run:
            import_training_stack()
            from ..run import Run

            return Run.resume(str(path).strip(), steps=steps)

        return self._start(resumed, wait)

    def stop(self) -> None:
        """Ask the current run to end after its current step."""
        self._stop.set()
        if self.run is not None:
            self.run.stop()
        if self.is_training:
            self.views.progress.say("stopping at the end of this step…", "warning")

    def wait(self, timeout: float | None = None) -> Run | None:
        """Block until a background run ends; returns it. Interrupting the kernel stops the run."""
        if self._thread is not None:
            try:
                self._thread.join(timeout)
            except KeyboardInterrupt:  # the cell waiting here was interrupted: stop cleanly, then return
                self.stop()
                self._thread.join()
        return self.run

    # -- the run thread -----------------------------------------------------------------------

    def _start(self, make_run: Callable[[], Run], wait: bool) -> Run | None:
        # Double clicks land here twice; only the first gets the lock.
        if not self._busy.acquire(blocking=False):
            self.views.progress.say("a run is already training; press Stop first", "warning")
            return None
        self._stop = threading.Event()
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.views.progress.say("loading the model and data…")
        self._thread = start_work(lambda: self._work(make_run), name="workbench-train", foreground=self.foreground)
        if self.foreground:
            return self.run
        return self.wait() if wait else None

    def _work(self, make_run: Callable[[], Run]) -> None:
        run: Run | None = None
        try:
            run = make_run()
            self._adopt(run)
            if not self._stop.is_set():
                run.train([self._on_event], stop=self._stop)  # every ending returns; _on_event says which
                self.views.results.show(run.final_evaluation(), "test" if run.test is not None else "validation")
        except KeyboardInterrupt:
            step = run.history.last_step if run else 0
            self.views.progress.say(f"interrupted at step {step}; the prefix and its history are kept", "warning")
        except Exception as exc:
            say_failure(self.views.progress.say, "training", exc)
        finally:
            self.train_button.disabled, self.stop_button.disabled = False, True
            self._busy.release()
            self.views.try_area.training_ended()
            if run is not None:
                self._redraw(run)
            _return_freed_memory()

    def _adopt(self, run: Run) -> None:
        c = run.config
        label = (f"#{len(self.runs) + 1} {short_name(c.model.name)} · {short_name(c.data.name)} · "
                 f"P={c.prefix.length} · {c.prefix.init}")  # fmt: skip
        for earlier in self.runs.values():  # a long session's memory stays flat: earlier runs keep only results
            if not earlier.is_training:
                earlier.release()
        self.runs[label] = run
        self.run, self.probes, self._base_outputs = run, [], None
        self._since = (run.history.last_step, run.history.ends[-1].elapsed_s if run.history.ends else 0.0)
        self.views.progress.say(f"training {label}")
        self._redraw(run)

    # -- what each event shows ----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        run, views = self.run, self.views
        assert run is not None
        if isinstance(event, StepEvent):
            views.try_area.serve_pending()  # a prompt typed while training is answered between two steps
            evaluating = run.config.train.evaluates_at(event.step)
            if self._line_due.due(force=evaluating):
                views.progress.step(event, self._since, evaluating=evaluating)
            if self._charts_due.due():
                start = time.perf_counter()
                self._redraw(run, overlay=False)  # the runs overlay waits for evaluations and the end
                self._charts_due.took(time.perf_counter() - start)
        elif isinstance(event, EvalEvent):
            if not self._stop.is_set():  # Stop was pressed: end now, no probe or samples first
                self._show_eval(run, event)
            self._redraw(run)
        elif isinstance(event, EndEvent):
            if run.history.steps:
                views.progress.step(run.history.steps[-1], self._since)
            views.progress.say(f"{event.summary} — export it below, or train again", event.ending.level)

    def _show_eval(self, run: Run, event: EvalEvent) -> None:
        views = self.views
        try:
            probe = run.probe(step=event.step)
            self.probes.append(probe)
            views.attention.show(probe)
            if self._base_outputs is None and run.objective.generative and event.samples:
                self._base_outputs = run.generate([s.get("prompt", s["input"]) for s in event.samples],
                                                  use_prefix=False)  # fmt: skip
            views.samples.show(event.samples, self._base_outputs, event.step)
        except Exception as exc:  # a view failing must not end the run; say so in place, where the view is
            _log.exception("evaluation display failed")
            message = f"could not draw the evaluation at step {event.step} ({type(exc).__name__}: {exc})"
            views.progress.say(message, "warning")
            views.attention.say(message)

    def _redraw(self, run: Run, *, overlay: bool = True) -> None:
        c = run.config
        title = f"{short_name(c.model.name)} · {short_name(c.data.name)} · prefix {c.prefix.length}"
        self.views.loss_chart.show(plots.loss_figure(run.history, title=title, first_eval=c.train.first_eval()))
        if overlay:
            self.views.runs.show({label: r.history for label, r in self.runs.items()})
