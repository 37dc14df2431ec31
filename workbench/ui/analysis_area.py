"""The panel's "What the prefix learned" section: the Analyse action and its charts.

Analyse runs :func:`workbench.analysis.analyse` (slot ablation, layer ablation, nearest
tokens) on the panel's latest run, or on a run directory typed beside the button, in a
thread (in the cell on Colab), refused while that run trains; then it shows both ablation
charts, the three-line summary and the readout table. The charts are made at the first
analysis: most sessions never open one. The section runs the library; it has no analysis
logic of its own.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import plots
from .live import LiveFigure
from .loader import import_training_stack, start_work
from .views import COLORS, html_table, say_failure

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..run import Run

__all__ = ["AnalysisArea"]


class AnalysisArea:
    """The Analyse button, the run-directory box, status, charts and readout; ``box`` is the section.

    ``current()`` gives the panel's latest run (or None), its label, and whether it is training.
    """

    def __init__(self, mode: str, current: Callable[[], tuple[Run | None, str, bool]], *,
                 foreground: bool = False) -> None:  # fmt: skip
        self.mode, self.current, self.foreground = mode, current, foreground
        self.button = w.Button(description="Analyse", icon="search", layout=w.Layout(width="110px"),
                               tooltip="slot and layer ablation, nearest tokens (seconds to minutes)")  # fmt: skip
        self.path = w.Text(placeholder="run directory (empty: the panel's current run)", description="analyse",
                           layout=w.Layout(width="340px"))  # fmt: skip
        self.status = w.HTML("<i>after a run: which slots and layers carry the prefix, and what its slots "
                             "resemble</i>")  # fmt: skip
        self.summary = w.HTML("")
        self.slots: LiveFigure | None = None  # built at the first analysis: most sessions never open one
        self.layers: LiveFigure | None = None
        self.readout = w.HTML("")
        self.holder = w.VBox([], layout=w.Layout(width="100%"))
        self.box = w.VBox([w.HBox([self.path, self.button]), self.status, self.summary, self.holder],
                          layout=w.Layout(width="100%"))  # fmt: skip
        self._thread: threading.Thread | None = None
        self.button.on_click(lambda _b: self.start(self.path.value))

    def start(self, path: str | Path | None = None, *, wait: bool = False, **options: Any) -> Analysis | None:
        """Analyse the panel's latest run, or the run exported in ``path``; returns the
        :class:`~workbench.analysis.Analysis` when it ran here (foreground or ``wait``). ``options`` go to
        :func:`~workbench.analysis.analyse` (rows, metric_rows, top, vocab)."""
        path = str(path or "").strip()
        run, label, training = self.current()
        if not path and run is None:
            self.say("nothing to analyse yet: train a run, or type an exported run's directory", "error")
            return None
        if not path and training:
            self.say("the run is still training; press Stop (or wait), then Analyse", "error")
            return None
        if self._thread is not None and self._thread.is_alive():
            self.say("an analysis is already running", "warning")
            return None
        self.button.disabled = True
        found: list[Analysis] = []

        def work() -> None:
            try:
                import_training_stack()
                from ..analysis import analyse
                from ..run import Run

                target = Run.load(path) if path else run
                found.append(analyse(target, progress=lambda text: self.say(f"analysing: {text}"), **options))
                self.show(found[-1], path or label)
            except Exception as exc:
                say_failure(self.say, "analysis", exc)
            finally:
                self.button.disabled = False

        self._thread = start_work(work, name="workbench-analyse", foreground=self.foreground, wait=wait)
        return found[-1] if found and (self.foreground or wait) else None

    def say(self, message: str, level: str = "info") -> None:
        self.status.value = f"<span style='color:{COLORS[level]}'>{html.escape(message)}</span>"

    def show(self, analysis: Analysis, label: str) -> None:
        slot_figure, layer_figure = plots.slot_ablation_figure(analysis.slots), plots.layer_ablation_figure(
            analysis.layers)  # fmt: skip
        if self.slots is None or self.layers is None:
            self.slots, self.layers = LiveFigure(slot_figure, self.mode), LiveFigure(layer_figure, self.mode)
            self.holder.children = [w.HBox([w.Box([self.slots.widget], layout=w.Layout(width="50%")),
                                            w.Box([self.layers.widget], layout=w.Layout(width="50%"))],
                                           layout=w.Layout(width="100%")), self.readout]  # fmt: skip
        else:
            self.slots.show(slot_figure)
            self.layers.show(layer_figure)
        self.say(f"{label} at step {analysis.step}: {analysis.scope()}", "ok")
        self.summary.value = "<br>".join(html.escape(line) for line in analysis.summary().splitlines())
        space = "keys" if analysis.readout.space == "keys" else "input embeddings"
        self.readout.value = (f"<b>nearest tokens by {space}</b> ({analysis.readout.vocab} of "
                              f"{analysis.readout.vocab_size} tokens)" + html_table(
                                  ["slot", "nearest (cosine, mean over layers)"],
                                  [(row["slot"], row["nearest"]) for row in analysis.readout.table()]))  # fmt: skip
