"""Figures of a sweep: Optuna's own plotly charts of the study, and every trial's validation curve on one chart.

:func:`sweep_figures` reads a sweep folder (``study.db``, ``sweep.json`` and the trials' ``run.json``)
and returns plotly figures by name, with a reason for each one it had to skip (a chart of parameter
importances needs two completed trials and a parameter that varied). It only builds figures: showing
them is the notebook panel's or the CLI's job, and it trains nothing.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from ..errors import ConfigError, one_line
from ..rundir import RUN_FILE, read_history
from ._backend import quiet_optuna, require_optuna
from .record import SWEEP_FILE, read_sweep
from .study import STUDY_FILE, STUDY_NAME

__all__ = ["sweep_figures", "validation_curves"]


def sweep_figures(out: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``({name: figure}, {name: why it was skipped})`` for the sweep in folder ``out``.

    Names: ``history`` (optimization history), ``importances``, ``parallel`` (parallel coordinates)
    and ``curves`` (:func:`validation_curves`).
    """
    optuna = require_optuna()
    out = Path(out).expanduser()
    if not (out / STUDY_FILE).is_file():
        raise ConfigError(f"{str(out)!r} holds no sweep ({STUDY_FILE} is missing); give a sweep folder")
    figures: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    with quiet_optuna():
        study = optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{(out / STUDY_FILE).resolve()}")
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        vis = optuna.visualization
        figures["history"] = vis.plot_optimization_history(study)
        names = {k for t in complete for k in t.params}
        varying = sorted(n for n in names if len({repr(t.params.get(n)) for t in complete}) > 1)
        if len(complete) < 2:
            skipped["importances"] = f"needs 2 completed trials, the sweep has {len(complete)}"
        elif not varying:
            skipped["importances"] = "no parameter took more than one value among the completed trials"
        else:
            try:
                with warnings.catch_warnings():  # "importances will be equal": the chart says as much
                    warnings.simplefilter("ignore", UserWarning)
                    figures["importances"] = vis.plot_param_importances(study, params=varying)
            except (RuntimeError, ValueError) as exc:  # e.g. every completed trial scored the same
                skipped["importances"] = one_line(exc)
        figures["parallel"] = vis.plot_parallel_coordinate(study)
    figures["curves"] = validation_curves(out)
    return figures, skipped


def validation_curves(out: str | Path) -> Any:
    """One line per trial: its headline metric (validation loss when there is none) at each evaluation."""
    import plotly.graph_objects as go

    record = read_sweep(out)
    if record is None:
        raise ConfigError(f"{str(out)!r} holds no {SWEEP_FILE} yet; its first trial has not ended")
    metric = record.metric
    fig = go.Figure()
    for trial in record.trials:
        if not trial.path or not (Path(trial.path) / RUN_FILE).is_file():
            continue  # failed before training, or killed before its export
        evals = read_history(trial.path).evals
        ys = [e.loss if metric == "loss" else e.metrics.get(metric) for e in evals]
        ys = [y if y is not None and math.isfinite(y) else None for y in ys]  # NaN: a gap in the line
        best = trial.number == record.best
        dash = {"pruned": "dot", "fail": "dash"}.get(trial.state)
        fig.add_trace(go.Scatter(
            x=[e.step for e in evals], y=ys, mode="lines+markers",
            name=f"trial {trial.number} ({trial.state})" + (" best" if best else ""),
            line={"dash": dash, "width": 4 if best else 1.5},
        ))  # fmt: skip
    fig.update_layout(title=f"validation {metric} per trial", xaxis_title="step", yaxis_title=metric,
                      template="plotly_white")  # fmt: skip
    return fig
