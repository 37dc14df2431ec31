"""A final evaluation, told in full: text for a terminal, JSON and a figure for a run directory.

An :class:`~workbench.evaluate.EvalResult` made with ``report=True`` carries the data
kind's detail: per-label precision / recall / F1 / support and a confusion matrix
(classification, scikit-learn), per-entity-type scores (tagging, seqeval), the true and
predicted values (regression), the sacrebleu tokenizer BLEU split words with (text).
:func:`report_text` lays it out for the CLI, :func:`report_figure` draws it (confusion
matrix heatmap, predicted-vs-true scatter), and :func:`save_report` writes
``eval-<split>.json`` and ``eval-<split>.html`` into a run directory, each file atomically.
Evaluating is :meth:`workbench.run.Run.evaluate`'s job.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from . import plots
from .evaluate import EvalResult
from .jsonio import dumps
from .rundir import write_text

__all__ = ["report_figure", "report_text", "save_report"]

_MATRIX_UP_TO = 12  # labels; a terminal shows the matrix of at most this many, else the most confused pairs


def report_text(result: EvalResult, *, split: str, name: str = "") -> str:
    """Loss and metrics (headline first), then the per-label report when there is one."""
    where = f"{name} {split}".strip()
    scored = f"{len(result.rows)} rows"
    if result.references > len(result.rows):
        scored = f"{len(result.rows)} records scored against {result.references} references"
    lines = [f"{where}: {scored}, loss {result.loss:.4f}"]
    lines += [f"  {k:<14} {v:.4f}" for k, v in result.metrics.items()]
    if result.report.get("bleu_tokenizer"):  # beside the scores: a zh or char BLEU is not comparable to a 13a one
        lines.append(f"  {'bleu tokenizer':<14} {result.report['bleu_tokenizer']}")
    if result.report.get("text"):
        lines += ["", result.report["text"].rstrip()]
    if result.report.get("confusion") and len(result.report["labels"]) > _MATRIX_UP_TO:
        lines += ["", "most confused (true → predicted: rows)"]
        lines += [f"  {t} → {p}: {n}" for t, p, n in result.report.get("confused", [])] or ["  none"]
    elif result.report.get("confusion"):
        labels = result.report["labels"]
        width = max(6, *(len(n) for n in labels))
        lines += ["", "confusion matrix (rows: true, columns: predicted)",
                  " " * width + "".join(f"{n:>{width + 1}}" for n in labels)]  # fmt: skip
        lines += [f"{n:<{width}}" + "".join(f"{c:>{width + 1}}" for c in row)
                  for n, row in zip(labels, result.report["confusion"])]  # fmt: skip
    return "\n".join(lines)


def report_figure(result: EvalResult, *, split: str) -> go.Figure | None:
    """The picture of a report: a confusion matrix, or predicted vs true; None for kinds without one."""
    if result.report.get("confusion"):
        return plots.confusion_figure(result.report, title=f"Confusion matrix ({split})")
    if "true" in result.report:
        return plots.regression_figure(result.report["true"], result.report["predicted"],
                                       title=f"Predicted vs true ({split})")  # fmt: skip
    return None


def save_report(result: EvalResult, directory: str | Path, *, split: str) -> list[Path]:
    """Write ``eval-<split>.json`` (and ``eval-<split>.html`` with the figure) into ``directory``."""
    directory = Path(directory)
    body = {"split": split, "rows": len(result.rows), "references": result.references, "loss": result.loss,
            "metrics": result.metrics,
            "report": result.report, "samples": result.samples}  # fmt: skip
    written = [write_text(directory / f"eval-{split}.json", dumps(body, indent=1))]
    figure = report_figure(result, split=split)
    if figure is not None:
        written.append(write_text(directory / f"eval-{split}.html", figure.to_html(include_plotlyjs="cdn")))
    return written
