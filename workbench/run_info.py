"""What ``run.json`` says about a run, and the data facts a reloaded run reads back from it.

:func:`run_info` assembles the dictionary a run directory's ``run.json`` holds — settings, task,
label names and target scale, the base model, its fingerprint and (from a GGUF file) which weights it
was, final and test metrics, samples, parameter counts, the whole history, findings and library
versions — from a :class:`~workbench.run.Run`'s parts. :func:`data_info_of` keeps what a trained prefix
or head depends on from a dataset; :func:`saved_data_info` reads it back from ``run.json``. Writing and reading the
files is :mod:`workbench.rundir`'s; this module only shapes the data (and imports no run at runtime).
"""

from __future__ import annotations

import platform
import time
from typing import TYPE_CHECKING, Any

from .data.chat_template import chat_format
from .rundir import RUN_FORMAT

if TYPE_CHECKING:
    from .data import TaskData
    from .evaluate import EvalResult
    from .run import Run

__all__ = ["data_info_of", "run_info", "saved_data_info"]


def run_info(run: Run) -> dict[str, Any]:
    """``run.json``'s content for ``run`` as it is now."""
    import datasets
    import peft
    import torch
    import transformers

    from .models.gguf import gguf_record

    counts = run.counts
    last = run.history.evals[-1] if run.history.evals else None
    return {
        "format": RUN_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": run.config.to_dict(),
        "task": run.task.name,
        "dataset_kind": run.dataset_kind,
        "label_names": run.label_names,
        "target_stats": run.data_info.get("target_stats"),
        # Its targets are one line each, so generation ends at a newline (the model card says so).
        "one_line_targets": run.data_info.get("one_line", False),
        # Where the rows came from (a file, a hub id, an object held in memory): a type, counts, a fingerprint.
        "data_source": run.data_info.get("source", {}),
        # Chat data: the template its conversations were written with ("own": the base's, "plain": the workbench's
        # role-per-line one, which the exported tokenizer carries), and the first training conversation rendered.
        "chat_template": run.data_info.get("chat_template"),
        "base_model": run.loaded.name,  # as the user named it: a hub id or built-in travels, a path does not
        "base_model_path": run.loaded.path,  # where it was loaded from on this machine
        "base_fingerprint": run.base_fingerprint,
        # Which weights those were when a GGUF file's (a packaged model's fetched copy): its name, sha256 and
        # quantization, the weights dequantized; None for a base loaded as it is published.
        "base_weights": gguf_record(run.loaded.path),
        "headline_metric": run.metric,
        "metrics": ({"step": last.step, "loss": last.loss, **last.metrics} if last else {}),
        "test": _test_info(run.test),
        # The run's last word with its per-label (per-type) report: the test split's, else the last validation's.
        "final_report": _final_report(run),
        "samples": last.samples if last else [],
        "parameters": {"trainable": counts.trainable, "stored": counts.stored, "base": counts.base},
        "steps_done": run.history.last_step,
        "history": run.history.to_dict(),
        "findings": [str(f) for f in run.findings],
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "datasets": datasets.__version__,
            "workbench": _workbench_version(),
        },
    }


def data_info_of(data: TaskData | None, tokenizer: Any = None) -> dict[str, Any]:
    """What a trained prefix or head depends on: the kind, label names, headline metric, target scale, and for
    conversations the chat template ``tokenizer`` writes them with."""
    if data is None:
        return {"kind": "text"}
    chat = None
    if data.data_kind.layout == "conversation" and tokenizer is not None:
        chat = chat_format(tokenizer).record(tokenizer, data.train[0]["messages"])
    return {"kind": data.kind, "label_names": data.label_names, "metric": data.metric,
            "target_stats": list(data.target_stats) if data.target_stats else None,
            "one_line": data.one_line(), "source": data.source, "chat_template": chat}  # fmt: skip


def saved_data_info(info: dict[str, Any]) -> dict[str, Any]:
    """:func:`data_info_of` as ``run.json`` keeps it."""
    return {"kind": info["dataset_kind"], "label_names": info.get("label_names"),
            "metric": info.get("headline_metric"), "target_stats": info.get("target_stats"),
            "one_line": info.get("one_line_targets", False), "source": info.get("data_source", {}),
            "chat_template": info.get("chat_template")}  # fmt: skip


def _test_info(result: EvalResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"loss": result.loss, "metrics": result.metrics, "rows": len(result.rows), "report": result.report}


def _final_report(run: Run) -> dict[str, Any] | None:
    final = run.final_evaluation()
    if final is None or not final.report:
        return None
    return {"split": "test" if run.test is not None else "validation", "report": final.report}


def _workbench_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefix-workbench")
    except PackageNotFoundError:
        return "unknown"
