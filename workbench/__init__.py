"""prefix-workbench: train, probe and export prefix-tuning adapters (PEFT), from notebooks or a CLI.

import workbench as wb
run = wb.Run.create(wb.RunConfig())        # tiny built-in model + toy dataset, offline
history = run.train(callbacks=[print])     # events in, history out
run.export("runs/demo")                    # PEFT adapter + run.json + model card
"""

from .config import DataChoice, ModelChoice, PrefixSettings, RunConfig, TrainSettings
from .data import BUILTIN_DATASETS, CURATED_DATASETS, TaskData, load_task_data
from .errors import (
    CompatibilityError,
    ConfigError,
    DataError,
    ExportError,
    ModelLoadError,
    TrainingError,
    WorkbenchError,
)
from .evaluate import EvalResult
from .export import load_run, read_run_info, save_run
from .generate import generate_texts
from .history import EndEvent, EvalEvent, Event, History, StepEvent
from .models import BUILTIN_MODELS, CURATED_MODELS, LoadedModel, load_model
from .prefix import Finding, ParameterCounts, attach_prefix, parameter_counts, preflight
from .probe import ProbeResult, prefix_attention
from .run import Run
from .train import Trainer

__all__ = [
    "BUILTIN_DATASETS",
    "BUILTIN_MODELS",
    "CURATED_DATASETS",
    "CURATED_MODELS",
    "CompatibilityError",
    "ConfigError",
    "DataChoice",
    "DataError",
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
    "ParameterCounts",
    "PrefixSettings",
    "ProbeResult",
    "Run",
    "RunConfig",
    "StepEvent",
    "TaskData",
    "TrainSettings",
    "Trainer",
    "TrainingError",
    "WorkbenchError",
    "attach_prefix",
    "generate_texts",
    "load_model",
    "load_run",
    "load_task_data",
    "parameter_counts",
    "prefix_attention",
    "preflight",
    "read_run_info",
    "save_run",
]
