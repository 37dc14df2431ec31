"""Hyperparameter sweeps of prefix-tuning runs on Optuna: a search space as text, a study, its figures.

``parse_space(["lr=1e-4:1e-1:log", "prefix_length=2,8"])`` reads the space (:mod:`.space`, no
Optuna needed); :func:`sweep` trains the trials on one shared base and keeps the study in the
sweep folder (:mod:`.study`); :func:`sweep_figures` draws it (:mod:`.figures`). Imports are lazy
(PEP 562): importing this package imports neither Optuna nor torch. Optuna is an optional extra
(``pip install 'prefix-workbench[sweep]'``).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "ALIASES": ".space",
    "Param": ".space",
    "SearchSpace": ".space",
    "parse_space": ".space",
    "BEST_DIR": ".study",
    "PRUNERS": ".study",
    "STUDY_FILE": ".study",
    "STUDY_NAME": ".study",
    "SWEEP_FILE": ".record",
    "SweepRecord": ".record",
    "SweepResult": ".study",
    "TrialSummary": ".record",
    "read_sweep": ".record",
    "sweep": ".study",
    "sweep_figures": ".figures",
    "validation_curves": ".figures",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
