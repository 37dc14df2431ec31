"""prefix-workbench: train, probe and export prefix-tuning adapters (PEFT), from notebooks or a CLI.

import workbench as wb
run = wb.Run.create(wb.RunConfig())        # tiny built-in model + toy dataset, offline
history = run.train(callbacks=[print])     # events in, history out
run.export("runs/demo")                    # PEFT adapter + run.json + model card
wb.Workbench()                             # in a notebook: the panel
"""

from __future__ import annotations

from ._lazy import lazy_exports

# Public name -> submodule. Imports are lazy (PEP 562) so that `prefix-workbench models`
# and the notebook's first cell do not pay for torch, transformers and peft up front.
_EXPORTS = {
    "BUILTIN_DATASETS": ".data",
    "BUILTIN_MODELS": ".models",
    "CURATED_DATASETS": ".data",
    "CURATED_MODELS": ".models",
    "CompatibilityError": ".errors",
    "ConfigError": ".errors",
    "DataChoice": ".config",
    "DataError": ".errors",
    "EndEvent": ".history",
    "EvalEvent": ".history",
    "EvalResult": ".evaluate",
    "DataKind": ".data_kinds",
    "DATA_KINDS": ".data_kinds",
    "METRICS": ".metrics",
    "ModelTask": ".model_tasks",
    "MODEL_TASKS": ".model_tasks",
    "Event": ".history",
    "ExportError": ".errors",
    "Finding": ".prefix",
    "History": ".history",
    "LoadedModel": ".models",
    "ModelChoice": ".config",
    "ModelLoadError": ".errors",
    "ParameterCounts": ".prefix",
    "PrefixBank": ".prefix_bank",
    "PrefixSettings": ".config",
    "ProbeResult": ".probe",
    "Run": ".run",
    "RunConfig": ".config",
    "StepEvent": ".history",
    "TaskData": ".data",
    "TrainSettings": ".config",
    "Trainer": ".train",
    "TrainingError": ".errors",
    "WorkbenchError": ".errors",
    "attach_prefix": ".prefix",
    "generate_texts": ".generate",
    "load_model": ".models",
    "load_task_data": ".data",
    "parameter_counts": ".prefix",
    "prefix_attention": ".probe",
    "preflight": ".prefix",
    "read_run_info": ".rundir",
    "estimate_counts": ".prefix",
    "fetch_model": ".models",
    "Workbench": ".ui",
    "Analysis": ".analysis",
    "analyse": ".analysis",
}
# Submodules reachable as attributes: ``wb.plots.loss_figure(run.history)``.
_SUBMODULES = ("analysis", "compare", "metrics", "plots", "sweep", "tracking", "ui")

__all__ = [
    "BUILTIN_DATASETS",
    "BUILTIN_MODELS",
    "CURATED_DATASETS",
    "CURATED_MODELS",
    "DATA_KINDS",
    "METRICS",
    "MODEL_TASKS",
    "Analysis",
    "CompatibilityError",
    "ConfigError",
    "DataChoice",
    "DataError",
    "DataKind",
    "EndEvent",
    "EvalEvent",
    "EvalResult",
    "Event",
    "ExportError",
    "Finding",
    "History",
    "LoadedModel",
    "ModelChoice",
    "ModelLoadError",
    "ModelTask",
    "ParameterCounts",
    "PrefixBank",
    "PrefixSettings",
    "ProbeResult",
    "Run",
    "RunConfig",
    "StepEvent",
    "TaskData",
    "TrainSettings",
    "Trainer",
    "TrainingError",
    "Workbench",
    "WorkbenchError",
    "analyse",
    "analysis",
    "attach_prefix",
    "compare",
    "estimate_counts",
    "fetch_model",
    "generate_texts",
    "load_model",
    "load_task_data",
    "metrics",
    "parameter_counts",
    "plots",
    "prefix_attention",
    "preflight",
    "read_run_info",
    "sweep",
    "tracking",
    "ui",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)


def __dir__() -> list[str]:
    return sorted(__all__)
