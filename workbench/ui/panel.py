"""The notebook panel: settings, Train / Stop, live charts, attention, samples, try it, runs, analysis, sweeps, export.

``Workbench()`` in a cell shows one panel. It composes the settings widgets
(:mod:`.controls`), the views (:mod:`.views`) and live charts (:mod:`.live`) with the
panel's areas — training (:mod:`.train_area`), try it, analysis, sweeps — around the
same :class:`~workbench.run.Run` the CLI uses, and lays them out; it loads what the
settings need in the background, and exports. In JupyterLab a run trains in a
background thread, so Stop acts at the next step; on Colab (or with ``foreground=True``)
it trains in the calling cell and an interrupt stops it cleanly, keeping the prefix
and its history. Errors are shown in place as one line; nothing here holds training
or export logic of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import plots
from ..config import RunConfig, short_name
from ..errors import WorkbenchError
from ..history import History
from .analysis_area import AnalysisArea
from .colab import download, enable_widgets, in_colab
from .controls import Controls, code_for
from .live import LiveFigure, chart_mode
from .loader import Loader, import_training_stack
from .sweep_area import SweepArea
from .train_area import TrainArea, TrainingViews
from .try_area import TryArea
from .views import AttentionView, InfoView, ProgressView, ResultsView, RunsView, SamplesView, say_failure

if TYPE_CHECKING:  # torch, transformers and peft load in the background, after the panel is shown
    from ..attention import ProbeResult
    from ..run import Run

__all__ = ["Workbench"]


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
        views = TrainingViews(self.progress, self.loss_chart, self.attention, self.samples, self.results,
                              self.runs_view, self.try_area)  # fmt: skip
        self.training = TrainArea(views, self._new_run, foreground=self.foreground,
                                  chart_interval_s=chart_interval_s, chart_budget=chart_budget)  # fmt: skip
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
        self.export_path = w.Text(value="runs/my-prefix", description="export to", layout=w.Layout(width="340px"))
        self.overwrite = w.Checkbox(value=False, description="overwrite", indent=False, layout=w.Layout(width="100px"))
        self.export_button = w.Button(description="Export", icon="download", layout=button)
        self.resume_path = w.Text(placeholder="run directory with a checkpoint", description="resume from",
                                  layout=w.Layout(width="340px"))  # fmt: skip
        self.resume_button = w.Button(description="Resume", icon="repeat", layout=button)
        self.code = w.Textarea(layout=w.Layout(width="100%", height="190px"))
        self.export_button.on_click(lambda _b: self.export())
        self.resume_button.on_click(lambda _b: self.resume(self.resume_path.value))
        # Two columns that share the width and wrap (settings above the chart) when the page is narrow.
        left = w.VBox([w.HTML("<b>settings</b>"), self.controls.box, self.training.buttons,
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
                                              want_attention=True, data=data, lr=config.train.lr))  # fmt: skip
        except Exception as exc:
            say_failure(lambda message, _level: self.info.show_problem(message), "loading the settings", exc)

    # -- training ----------------------------------------------------------------------------

    @property
    def is_training(self) -> bool:
        return self.training.is_training

    @property
    def run(self) -> Run | None:
        """The latest run the panel trained (or resumed)."""
        return self.training.run

    @property
    def runs(self) -> dict[str, Run]:
        """Every run of this panel, by its label in the runs overlay."""
        return self.training.runs

    @property
    def probes(self) -> list[ProbeResult]:
        """The attention onto the prefix at each evaluation of the latest run."""
        return self.training.probes

    @property
    def train_button(self) -> w.Button:
        return self.training.train_button

    @property
    def stop_button(self) -> w.Button:
        return self.training.stop_button

    def train(self, config: RunConfig | None = None, *, wait: bool = False) -> Run | None:
        """Start a run with the panel's settings (or ``config``); None if it could not start.

        JupyterLab: in a background thread (``wait=True`` blocks until it ends). Colab or
        ``foreground=True``: in this cell, Ctrl-C / interrupt stops it at a step boundary.
        """
        return self.training.train(config, wait=wait)

    def resume(self, path: str | Path, *, steps: int | None = None, wait: bool = False) -> Run | None:
        """Continue the run saved with a checkpoint in ``path`` (after a restart or a crash).

        ``steps``: a new total, to train on past the one the run was started with.
        """
        return self.training.resume(path, steps=steps, wait=wait)

    def stop(self) -> None:
        """Ask the current run to end after its current step."""
        self.training.stop()

    def wait(self, timeout: float | None = None) -> Run | None:
        """Block until a background run ends; returns it. Interrupting the kernel stops the run."""
        return self.training.wait(timeout)

    def _new_run(self, config: RunConfig | None) -> Run:
        import_training_stack()
        from ..run import Run

        config = config or self.controls.config()
        return Run.create(config, base=self.loader.base(config, self.loader.data(config)))

    # -- analysis ----------------------------------------------------------------------------

    def analyse(self, path: str | Path | None = None, *, wait: bool = False, **options: Any) -> Any:
        """What the current run's prefix learned, or that of the run exported in ``path``
        (:meth:`AnalysisArea.start`: in a thread like training; ``wait=True`` blocks and returns it)."""
        return self.analysis.start(path, wait=wait, **options)

    def _current(self) -> tuple[Run | None, str, bool]:
        """The panel's latest run, its label, and whether it is training (what the analysis area asks)."""
        return self.run, self.training.label, self.is_training

    # -- export ------------------------------------------------------------------------------

    def export(self, path: str | Path | None = None, *, overwrite: bool | None = None) -> Path | None:
        """Write the current run's directory (adapter, run.json, model card); on Colab also download a zip."""
        if self.run is None:
            self.progress.say("nothing to export yet: train a run first", "error")
            return None
        c = self.run.config  # an emptied box: a name from the run's model and data
        path = Path(path or self.export_path.value.strip()
                    or f"runs/{short_name(c.model.name)}-{Path(short_name(c.data.name)).stem}")  # fmt: skip
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
