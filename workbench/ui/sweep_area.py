"""The panel's Sweep section: search the panel's settings with Optuna and watch the trials come in.

A search space typed one spec per line (``lr=1e-2:3e-1:log``, ``prefix_length=2,5,10``), the
number of trials, the pruner and the sweep folder; Sweep and Stop. The sweep itself is
:func:`workbench.sweeps.sweep` on the panel's current settings, in a thread (in the cell on
Colab). As each trial ends: a table of trials (state, settings, value, time), every trial's
validation curve on one chart and, once two trials have completed, Optuna's own figures
(optimization history, parameter importances, parallel coordinates). The section holds widgets
and runs the library; it has no sweep logic of its own.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ..errors import WorkbenchError
from .live import LiveFigure
from .loader import start_work
from .views import COLORS, html_table, say_failure

if TYPE_CHECKING:
    from ..config import RunConfig
    from ..sweeps import SweepResult, TrialSummary

__all__ = ["SweepArea"]

_OPTUNA_FIGURES = ("history", "importances", "parallel")


class SweepArea:
    """Sweep settings, Sweep / Stop, the live trial table and the sweep's figures; ``box`` is the section."""

    def __init__(self, mode: str, settings: Callable[[], RunConfig], *, foreground: bool = False) -> None:
        self.mode, self.settings, self.foreground = mode, settings, foreground
        self.space = w.Textarea(value="lr=1e-2:3e-1:log\nprefix_length=2,5,10", description="space",
                                layout=w.Layout(width="340px", height="70px"))  # fmt: skip
        self.trials = w.BoundedIntText(value=8, min=1, max=10_000, description="trials", layout=w.Layout(width="180px"))
        self.pruner = w.Dropdown(options=["median", "halving", "none"], value="median", description="pruner",
                                 layout=w.Layout(width="180px"))  # fmt: skip
        self.out = w.Text(value="runs/sweep", description="folder", layout=w.Layout(width="340px"))
        self.resume = w.Checkbox(value=False, description="resume the sweep in this folder", indent=False)
        self.sweep_button = w.Button(description="Sweep", icon="search-plus", layout=w.Layout(width="110px"))
        self.stop_button = w.Button(description="Stop sweep", icon="stop", disabled=True,
                                    layout=w.Layout(width="120px"))  # fmt: skip
        self.status = w.HTML("<i>the panel's settings, searched over the space above (each trial a run)</i>")
        self.table = w.HTML("")
        self.figures: dict[str, LiveFigure] = {}
        self.holder = w.VBox([], layout=w.Layout(width="100%"))
        self.result: SweepResult | None = None
        self.sweep_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trials: list[TrialSummary] = []
        self.box = w.VBox([
            w.HBox([self.space, w.VBox([self.trials, self.pruner])]),
            w.HBox([self.out, self.resume]), w.HBox([self.sweep_button, self.stop_button]),
            self.status, self.table, self.holder,
        ], layout=w.Layout(width="100%"))  # fmt: skip

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, wait: bool = False) -> SweepResult | None:
        """Sweep with the current settings; returns the result when it ran here (foreground or ``wait``)."""
        if self.running:
            self.say("a sweep is already running; press Stop first", "warning")
            return None
        try:
            from ..sweeps import parse_space

            space, config = parse_space(self.space.value), self.settings()
        except WorkbenchError as exc:  # a malformed space or setting: said here, nothing written
            self.say(str(exc), "error")
            return None
        self._stop, self._trials, self.result = threading.Event(), [], None
        self.sweep_button.disabled, self.stop_button.disabled = True, False
        args = (config, space, int(self.trials.value), self.out.value.strip() or "runs/sweep", self.resume.value)
        self._thread = start_work(lambda: self._work(*args), name="workbench-sweep", foreground=self.foreground,
                                  wait=wait)  # fmt: skip
        return self.result if self.foreground or wait else None

    def stop(self) -> None:
        """End the trial in progress at its next step, and the sweep after it (resume it later)."""
        self._stop.set()
        if self.running:
            self.say("stopping after this trial's current step…", "warning")

    def say(self, message: str, level: str = "info") -> None:
        self.status.value = f"<span style='color:{COLORS[level]}'>{html.escape(message)}</span>"

    def _work(self, config: RunConfig, space: Any, trials: int, out: str, resume: bool) -> None:
        try:
            from ..sweeps import sweep

            self.say(f"sweeping {trials} trials over {', '.join(space.specs)}: loading…")
            self.result = sweep(config, space, trials=trials, out=out, resume=resume, pruner=self.pruner.value,
                                    on_trial=lambda t: self._on_trial(t, out, trials), stop=self._stop)  # fmt: skip
            result = self.result
            self._draw_table(result.trials, result.best.number if result.best else None)
            best = (f"best: trial {result.best.number}, {result.metric} {result.best.value:.4g} — its run is in "
                    f"{out}/best" if result.best else "no trial completed")  # fmt: skip
            ended = "stopped (tick resume and Sweep to go on)" if result.stopped else "done"
            self.say(f"{ended}; {best}", "warning" if result.stopped else "ok")
        except Exception as exc:
            say_failure(self.say, "sweep", exc)
        finally:
            self.sweep_button.disabled, self.stop_button.disabled = False, True

    def _on_trial(self, trial: TrialSummary, out: str, wanted: int) -> None:
        from ..sweeps import read_sweep, sweep_figures

        self._trials.append(trial)
        study = read_sweep(out)  # written before each on_trial
        assert study is not None
        self._draw_table(self._trials, study.best)
        self.say(f"trial {trial.number} {trial.state} ({len(self._trials)} this session; {wanted} in all)")
        figures, _skipped = sweep_figures(out)
        shown = {"curves": figures["curves"]}
        # Optuna's charts say little before two trials (this session's or a resumed study's) have finished.
        if study.completed() >= 2:
            shown.update({name: figures[name] for name in _OPTUNA_FIGURES if name in figures})
        for name, figure in shown.items():
            if name in self.figures:
                self.figures[name].show(figure)
            else:
                self.figures[name] = LiveFigure(figure, self.mode)
        self.holder.children = [self.figures[name].widget for name in ("curves", *_OPTUNA_FIGURES)
                                if name in self.figures]  # fmt: skip

    def _draw_table(self, trials: list[TrialSummary], best: int | None) -> None:
        names = list(dict.fromkeys(k for t in trials for k in t.params))
        header = ["trial", "state", "value", *names, "train s", "note"]
        rows = [[f"{t.number}{' ★' if t.number == best else ''}", t.state,
                 "-" if t.value is None else f"{t.value:.4g}",
                 *(_cell(t.params.get(n, "")) for n in names), f"{t.train_s:.1f}", t.note]
                for t in trials]  # fmt: skip
        self.table.value = html_table(header, rows)


def _cell(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
