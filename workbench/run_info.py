"""A live run's :class:`~workbench.run_record.RunRecord`, and the data facts a trained prefix depends on.

:func:`run_record` fills the record a run directory's ``run.json`` holds — settings, objective, label names
and target scale, the base model, its fingerprint and (from a GGUF file) which weights it was, final and
test metrics, samples, parameter counts, the whole history, findings and library versions — from a
:class:`~workbench.run.Run`'s parts. :func:`data_info_of` keeps what a trained prefix or head depends on
from a dataset (:meth:`RunRecord.data_info` gives the same back from a saved run). Writing and reading the
files is :mod:`workbench.rundir`'s; this module only gathers (and imports no run at runtime).
"""

from __future__ import annotations

import platform
import time
from typing import TYPE_CHECKING, Any

from .data.chat_template import chat_format
from .run_record import RunRecord

if TYPE_CHECKING:
    from .data import TaskData
    from .evaluate import EvalResult
    from .run import Run

__all__ = ["data_info_of", "run_record"]


def run_record(run: Run) -> RunRecord:
    """``run.json``'s record of ``run`` as it is now."""
    import datasets
    import peft
    import torch
    import transformers

    from .models.gguf import gguf_record

    counts = run.counts
    last = run.history.evals[-1] if run.history.evals else None
    data = run.data_info
    return RunRecord(
        config=run.config,
        objective=run.objective.name,
        dataset_kind=run.dataset_kind,
        history=run.history,
        label_names=run.label_names,
        target_stats=data.get("target_stats"),
        one_line_targets=data.get("one_line", False),
        data_source=data.get("source", {}),
        chat_template=data.get("chat_template"),
        base_model=run.loaded.name,
        base_model_path=run.loaded.path,
        base_fingerprint=run.base_fingerprint,
        base_weights=gguf_record(run.loaded.path),
        headline_metric=run.metric,
        metrics={"step": last.step, "loss": last.loss, **last.metrics} if last else {},
        test=_test_info(run.test),
        final_report=_final_report(run),
        samples=last.samples if last else [],
        parameters={"trainable": counts.trainable, "stored": counts.stored, "base": counts.base},
        steps_done=run.history.last_step,
        findings=[str(f) for f in run.findings],
        versions={
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "datasets": datasets.__version__,
            "workbench": _workbench_version(),
        },
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


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
