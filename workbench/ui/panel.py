"""The notebook panel: settings, Train / Stop, live charts, attention, samples, try it, runs, analysis, sweeps, export.

``Workbench()`` in a cell shows one panel. It composes the settings widgets
(:mod:`.controls`), the views (:mod:`.views`) and live charts (:mod:`.live`) around
the same :class:`~workbench.run.Run` the CLI uses: the training loop only calls the
panel back with events, and the panel redraws at most a few times a second.
In JupyterLab a run trains in a background thread, so Stop acts at the next step;
on Colab (or with ``foreground=True``) it trains in the calling cell and an interrupt
stops it cleanly, keeping the prefix and its history. Errors are shown in place as
one line; nothing here holds training or export logic of its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import plots
from ..config import RunConfig, short_name
from ..errors import WorkbenchError
from ..history import EndEvent, EvalEvent, Event, History, StepEvent
from .analysis_area import AnalysisArea
from .colab import download, enable_widgets, in_colab
from .controls import Controls, code_for
from .live import LiveFigure, Throttle, chart_mode
from .loader import Loader, import_training_stack, start_work
from .sweep_area import SweepArea
from .try_area import TryArea
from .views import AttentionView, InfoView, ProgressView, ResultsView, RunsView, SamplesView, say_failure

if TYPE_CHECKING:  # torch, transformers and peft load in the background, after the panel is shown
    from ..attention import ProbeResult
    from ..run import Run

__all__ = ["Workbench"]

_log = logging.getLogger(__name__)


def _return_freed_memory() -> None:
    """Hand the memory a finished run freed back to the system (glibc keeps it in per-thread arenas, so a
    session of many runs, each in its own thread, would otherwise grow by several MB a run)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to do
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


class Workbench:
    """One panel for prefix-tuning runs; display it as a cell's last expression.

    Charts redraw at most every ``chart_interval_s``, and less often when drawing would
    take more than ``chart_budget`` of the wall time (None: every interval, e.g. in tests).
    """

    def __init__(
        self,
        config: RunConfig | None = None,
        *,
        charts: str = "auto",
        foreground: bool | None = None,
        chart_interval_s: float = 1.0,
        chart_budget: float | None = 0.04,
    ) -> None:
        self.colab = enable_widgets() if in_colab() else False
        self.foreground = self.colab if foreground is None else foreground
        self.chart_mode = chart_mode(charts)
        self.controls = Controls(config)
        self.progress, self.info, self.samples = ProgressView(), InfoView(), SamplesView()
        self.attention, self.runs_view = AttentionView(self.chart_mode), RunsView(self.chart_mode)
        self.results = ResultsView(self.chart_mode)
        self.analysis = AnalysisArea(self.chart_mode, self._current, foreground=self.foreground)
        self.try_area = TryArea(self.chart_mode, self._current, foreground=self.foreground)
        self.sweep = SweepArea(self.chart_mode, self.controls.config, foreground=self.foreground)
        self.loss_chart = LiveFigure(plots.loss_figure(History()), self.chart_mode)
        self.runs: dict[str, Run] = {}
        self.run: Run | None = None
        self.probes: list[ProbeResult] = []  # of the current run, one per evaluation
        self._busy = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._charts_due, self._line_due = Throttle(chart_interval_s, chart_budget), Throttle(0.25)
        self._base_outputs: list[str] | None = None
        self._since = (0, 0.0)  # (step, elapsed_s) the current run's session began at
        # Loading what the settings need (model, data) happens in a thread, so the panel shows at once.
        self.loader = Loader(self._load_settings, foreground=self.foreground)
        self._shown = False
        self._build_widgets()
        self.controls.observe(lambda _c: self.refresh(), "all")
        if self.foreground:
            # Colab shows no widget update made from a thread: show the panel first, then load here.
            from IPython.display import display

            display(self.widget)
            self._shown = True
        self.refresh()

    # -- layout ------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        button = w.Layout(width="110px")
        self.train_button = w.Button(description="Train", button_style="success", icon="play", layout=button)
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", layout=button,
                                    disabled=True)  # fmt: skip
        self.export_path = w.Text(value="runs/my-prefix", description="export to", layout=w.Layout(width="340px"))
        self.overwrite = w.Checkbox(value=False, description="overwrite", indent=False, layout=w.Layout(width="100px"))
        self.export_button = w.Button(description="Export", icon="download", layout=button)
        self.resume_path = w.Text(placeholder="run directory with a checkpoint", description="resume from",
                                  layout=w.Layout(width="340px"))  # fmt: skip
        self.resume_button = w.Button(description="Resume", icon="repeat", layout=button)
        self.code = w.Textarea(layout=w.Layout(width="100%", height="190px"))
        self.train_button.on_click(lambda _b: self.train())
        self.stop_button.on_click(lambda _b: self.stop())
        self.export_button.on_click(lambda _b: self.export())
        self.resume_button.on_click(lambda _b: self.resume(self.resume_path.value))
        # Two columns that share the width and wrap (settings above the chart) when the page is narrow.
        left = w.VBox([w.HTML("<b>settings</b>"), self.controls.box, w.HBox([self.train_button, self.stop_button]),
                       self.info.box], layout=w.Layout(flex="1 1 320px", min_width="320px", max_width="480px",
                                                       padding="0 12px 0 0"))  # fmt: skip
        right = w.VBox([self.progress.box, self.loss_chart.widget], layout=w.Layout(flex="3 1 480px", min_width="0"))
        section = lambda title: w.HTML(f"<h4 style='margin:10px 0 2px'>{title}</h4>")  # noqa: E731
        self.widget = w.VBox(
            [
                w.HTML("<h3 style='margin:4px 0'>prefix-workbench</h3>"),
                w.HBox([left, right], layout=w.Layout(width="100%", flex_flow="row wrap")),
                section("Final evaluation"), self.results.box,
                section("Attention onto the prefix"), self.attention.box,
                self.samples.box,
                section("Try it"), self.try_area.box,
                section("Runs"), self.runs_view.box,
                section("What the prefix learned"), self.analysis.box,
                section("Sweep (Optuna)"), self.sweep.box,
                section("Export and resume"),
                w.HBox([self.export_path, self.overwrite, self.export_button]),
                w.HBox([self.resume_path, self.resume_button]),
                w.HTML("<b>copy as code</b> (the current settings, headless)"), self.code,
            ],
            layout=w.Layout(width="100%", max_width="1400px"),
        )  # fmt: skip

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self._shown:  # displayed by the constructor (foreground mode); one live copy is enough
            return {"text/plain": "(the workbench panel is shown above)"}
        return self.widget._repr_mimebundle_(**kwargs)

    # -- settings ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the settings: the code and any setting error at once; then, in the background (in the
        foreground on Colab), load the model and data and show the preview, parameter counts and findings.
        :meth:`settled` waits for that."""
        try:
            config = self.controls.config()
        except WorkbenchError as exc:
            self.info.show_problem(str(exc))
            return
        self.code.value = code_for(config, self.export_path.value)
        self.info.show_loading(f"loading {config.model.name} and {config.data.name}…")
        self.loader.request()

    def settled(self, timeout: float | None = None) -> bool:
        """Block until what the settings need is loaded and shown (False if ``timeout`` passed first)."""
        return self.loader.settled(timeout)

    def _load_settings(self) -> None:
        try:
            config = self.controls.config()
        except WorkbenchError as exc:
            self.info.show_problem(str(exc))
            return
        self._load(config)

    def _load(self, config: RunConfig) -> None:
        for chart in (self.loss_chart, self.attention.share, self.attention.tokens, self.runs_view.chart,
                      self.results.chart):  # fmt: skip
            chart.materialize()  # the first one imports plotly's renderers (~1 s): after the panel is shown
        import_training_stack()
        from ..prefix import estimate_counts, preflight

        try:
            data = self.loader.data(config)
            self.info.show_preview(data.preview(3), data.kind)
            base = self.loader.base(config, data)
            self.info.show_counts(estimate_counts(base, config.prefix))
            self.info.show_findings(preflight(base, config.prefix, max_length=config.data.max_length,
                                              want_attention=True, data=data))  # fmt: skip
        except Exception as exc:
            say_failure(lambda message, _level: self.info.show_problem(message), "loading the settings", exc)

    # -- training ----------------------------------------------------------------------------

    @property
    def is_training(self) -> bool:
        return self._busy.locked()

    def train(self, config: RunConfig | None = None, *, wait: bool = False) -> Run | None:
        """Start a run with the panel's settings (or ``config``); None if it could not start.

        JupyterLab: in a background thread (``wait=True`` blocks until it ends). Colab or
        ``foreground=True``: in this cell, Ctrl-C / interrupt stops it at a step boundary.
        """
        return self._start(lambda: self._new_run(config), wait)

    def resume(self, path: str | Path, *, steps: int | None = None, wait: bool = False) -> Run | None:
        """Continue the run saved with a checkpoint in ``path`` (after a restart or a crash).

        ``steps``: a new total, to train on past the one the run was started with.
        """
        if not str(path).strip():
            self.progress.say("type the run directory to resume from", "error")
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
            self.progress.say("stopping at the end of this step…", "warning")

    def wait(self, timeout: float | None = None) -> Run | None:
        """Block until a background run ends; returns it. Interrupting the kernel stops the run."""
        if self._thread is not None:
            try:
                self._thread.join(timeout)
            except KeyboardInterrupt:  # the cell waiting here was interrupted: stop cleanly, then return
                self.stop()
                self._thread.join()
        return self.run

    def _new_run(self, config: RunConfig | None) -> Run:
        import_training_stack()
        from ..run import Run

        config = config or self.controls.config()
        return Run.create(config, base=self.loader.base(config, self.loader.data(config)))

    def _start(self, make_run: Any, wait: bool) -> Run | None:
        # Double clicks land here twice; only the first gets the lock.
        if not self._busy.acquire(blocking=False):
            self.progress.say("a run is already training; press Stop first", "warning")
            return None
        self._stop = threading.Event()
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.progress.say("loading the model and data…")
        self._thread = start_work(lambda: self._work(make_run), name="workbench-train", foreground=self.foreground)
        if self.foreground:
            return self.run
        return self.wait() if wait else None

    def _work(self, make_run: Any) -> None:
        run: Run | None = None
        try:
            run = make_run()
            self._adopt(run)
            if not self._stop.is_set():
                run.train([self._on_event], stop=self._stop)
                self.results.show(run.final_evaluation(), "test" if run.test is not None else "validation")
        except KeyboardInterrupt:
            step = run.history.last_step if run else 0
            self.progress.say(f"interrupted at step {step}; the prefix and its history are kept", "warning")
        except Exception as exc:
            say_failure(self.progress.say, "training", exc)
        finally:
            self.train_button.disabled, self.stop_button.disabled = False, True
            self._busy.release()
            self.try_area.training_ended()
            if run is not None:
                self._redraw(run)
            _return_freed_memory()

    def _adopt(self, run: Run) -> None:
        c = run.config
        model, data = short_name(c.model.name), short_name(c.data.name)
        label = f"#{len(self.runs) + 1} {model} · {data} · P={c.prefix.length} · {c.prefix.init}"
        for earlier in self.runs.values():  # a long session's memory stays flat: earlier runs keep only results
            if not earlier.is_training:
                earlier.release()
        self.runs[label] = run
        self.run, self.probes, self._base_outputs = run, [], None
        self._since = (run.history.last_step, run.history.ends[-1].elapsed_s if run.history.ends else 0.0)
        self.export_path.value = self.export_path.value or f"runs/{model}-{Path(data).stem}"
        self.progress.say(f"training {label}")
        self._redraw(run)

    def _on_event(self, event: Event) -> None:
        run = self.run
        assert run is not None
        if isinstance(event, StepEvent):
            self.try_area.serve_pending()  # a prompt typed while training is answered between two steps
            if self._line_due.due():
                self.progress.step(event, self._since)
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
                self.progress.step(run.history.steps[-1], self._since)
            self.progress.say(f"{event.summary} — export it below, or train again", event.ending.level)

    def _show_eval(self, run: Run, event: EvalEvent) -> None:
        try:
            probe = run.probe(step=event.step)
            self.probes.append(probe)
            self.attention.show(probe)
            if self._base_outputs is None and run.task.generative and event.samples:
                self._base_outputs = run.generate([s.get("prompt", s["input"]) for s in event.samples],
                                                  use_prefix=False)  # fmt: skip
            self.samples.show(event.samples, self._base_outputs, event.step)
        except Exception as exc:  # a view failing must not end the run; say so in place, where the view is
            _log.exception("evaluation display failed")
            message = f"could not draw the evaluation at step {event.step} ({type(exc).__name__}: {exc})"
            self.progress.say(message, "warning")
            self.attention.say(message)

    def _redraw(self, run: Run, *, overlay: bool = True) -> None:
        c = run.config
        title = f"{short_name(c.model.name)} · {short_name(c.data.name)} · prefix {c.prefix.length}"
        self.loss_chart.show(plots.loss_figure(run.history, title=title, first_eval=c.train.first_eval()))
        if overlay:
            self.runs_view.show({label: r.history for label, r in self.runs.items()})

    # -- analysis ----------------------------------------------------------------------------

    def analyse(self, path: str | Path | None = None, *, wait: bool = False, **options: Any) -> Any:
        """What the current run's prefix learned, or that of the run exported in ``path``
        (:meth:`AnalysisArea.start`: in a thread like training; ``wait=True`` blocks and returns it)."""
        return self.analysis.start(path, wait=wait, **options)

    def _current(self) -> tuple[Run | None, str, bool]:
        """The panel's latest run, its label, and whether it is training (what the analysis area asks)."""
        label = next((k for k, r in self.runs.items() if r is self.run), "this run")
        return self.run, label, self.is_training

    # -- export ------------------------------------------------------------------------------

    def export(self, path: str | Path | None = None, *, overwrite: bool | None = None) -> Path | None:
        """Write the current run's directory (adapter, run.json, model card); on Colab also download a zip."""
        path = Path(path or self.export_path.value.strip() or "runs/my-prefix")
        if self.run is None:
            self.progress.say("nothing to export yet: train a run first", "error")
            return None
        if self.is_training:
            self.progress.say("the run is still training; press Stop (or wait) before exporting", "error")
            return None
        try:
            out = self.run.export(path, overwrite=self.overwrite.value if overwrite is None else overwrite)
            if self.colab:
                download(out)
        except WorkbenchError as exc:
            self.progress.say(str(exc), "error")
            return None
        self.progress.say(f"exported to {out}", "ok")
        return out
