"""Run directories: write a trained prefix to share it, and read one back.

A run directory holds

* ``adapter/`` — a standard PEFT adapter (``adapter_config.json`` +
  ``adapter_model.safetensors``) with the tokenizer beside it, loadable by plain
  ``peft`` without importing the workbench;
* ``run.json`` — every setting, the final metrics, the loss history, parameter
  counts and library versions;
* ``README.md`` — a model card that says how to load and use the prefix.

Writing goes to a temporary sibling that is renamed into place, so an interrupted
export leaves either nothing or a complete run; an existing directory is never
replaced unless ``overwrite=True``. Reading checks the files before loading.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import datasets
import peft
import torch
import transformers
from peft import PeftModel
from safetensors import SafetensorError, safe_open

from .checkpoint import CHECKPOINT_DIR, read_checkpoint, write_checkpoint
from .config import RunConfig
from .errors import ExportError
from .history import History
from .metrics import HEADLINE
from .models import load_model

if TYPE_CHECKING:
    from .run import Run

__all__ = ["ADAPTER_DIR", "RUN_FILE", "load_run", "read_run_info", "resume_run", "save_run"]

ADAPTER_DIR = "adapter"
RUN_FILE = "run.json"
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def save_run(run: Run, path: str | Path, *, overwrite: bool = False, checkpoint: bool | None = None) -> Path:
    """Export ``run`` to ``path`` atomically; refuses to replace an existing path unless asked.

    ``checkpoint`` adds the resumable training state (default: when ``checkpoint_every > 0``).
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise ExportError(f"{str(path)!r} already exists; choose another directory or pass overwrite=True "
                          "(CLI: --overwrite)")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        run.live_model.save_pretrained(tmp / ADAPTER_DIR)
        run.tokenizer.save_pretrained(tmp / ADAPTER_DIR)
        info = _run_info(run)
        (tmp / RUN_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        (tmp / "README.md").write_text(_model_card(info), encoding="utf-8")
        if checkpoint is None:
            checkpoint = run.config.train.checkpoint_every > 0
        if checkpoint and run._trainer is not None:
            write_checkpoint(run.trainer.state_dict(), tmp / CHECKPOINT_DIR)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{time.time_ns()}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_run_info(path: str | Path) -> dict[str, Any]:
    """``run.json`` of a run directory, after checking that the directory is complete."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ExportError(f"run directory {str(path)!r} does not exist")
    for name in (RUN_FILE, *(f"{ADAPTER_DIR}/{f}" for f in _ADAPTER_FILES)):
        if not (path / name).is_file():
            raise ExportError(f"{str(path)!r} is not a complete run directory: {name} is missing")
    try:
        with safe_open(str(path / ADAPTER_DIR / "adapter_model.safetensors"), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open has no __iter__
                fh.get_tensor(key)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ExportError(f"adapter weights in {str(path)!r} are unreadable (truncated or corrupted?): "
                          f"{str(exc).splitlines()[0][:120]}") from None  # fmt: skip
    try:
        return json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"{RUN_FILE} in {str(path)!r} is not valid JSON: {exc}") from None


def load_run(path: str | Path) -> Run:
    """Import a run directory: base model + adapter, settings and history (no training state)."""
    from .run import Run

    path = Path(path).expanduser()
    info = read_run_info(path)
    config = RunConfig.from_dict(info["config"])
    loaded = load_model(config.model, info["dataset_kind"], label_names=info.get("label_names"))
    _check_fit(path / ADAPTER_DIR, loaded.model.config, config.model.name)
    try:
        model = PeftModel.from_pretrained(loaded.model, str(path / ADAPTER_DIR))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ExportError(
            f"the adapter in {str(path)!r} does not fit {config.model.name!r} (layers, heads or head size "
            f"differ): {str(exc).splitlines()[0][:160]}"
        ) from None
    model.eval()
    run = Run(config, loaded, model, data=None, history=History.from_dict(info.get("history", {})))
    run.dataset_kind, run.label_names = info["dataset_kind"], info.get("label_names")
    return run


def _check_fit(adapter: Path, model_config: Any, name: str) -> None:
    """Compare the adapter's layers / heads / token size with what PEFT derives from the base model."""
    from peft import PrefixTuningConfig
    from peft.utils.other import _prepare_prompt_learning_config

    saved = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    if saved.get("peft_type") != "PREFIX_TUNING":
        raise ExportError(f"{str(adapter)!r} holds a {saved.get('peft_type')} adapter, not a prefix")
    expected = _prepare_prompt_learning_config(
        PrefixTuningConfig(task_type=saved.get("task_type"), num_virtual_tokens=saved["num_virtual_tokens"]),
        model_config,
    )
    for key in ("num_layers", "num_attention_heads", "token_dim"):
        if saved.get(key) != getattr(expected, key):
            raise ExportError(
                f"the adapter does not fit {name!r}: it was trained for {key}={saved.get(key)}, "
                f"the model has {getattr(expected, key)}; load it with the base model it was trained on"
            )


def resume_run(path: str | Path, *, steps: int | None = None) -> Run:
    """A run rebuilt from its checkpoint: same settings, prefix, optimizer, schedule and history.

    ``steps`` raises the total step budget (the schedule is rebuilt for it)."""
    from .run import Run

    path = Path(path).expanduser()
    info = read_run_info(path)
    state = read_checkpoint(path / CHECKPOINT_DIR)
    config = RunConfig.from_dict(info["config"])
    if steps is not None:
        config.train.steps = steps
    run = Run.create(config)
    run.history = History.from_dict(info.get("history", {}))
    run.trainer.load_state_dict(state)  # the schedule's position carries over to a new step budget
    return run


def _run_info(run: Run) -> dict[str, Any]:
    counts = run.counts
    last_eval = run.history.evals[-1] if run.history.evals else None
    return {
        "format": "prefix-workbench-run/1",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": run.config.to_dict(),
        "task": run.task,
        "dataset_kind": run.dataset_kind,
        "label_names": run.label_names,
        "base_model_path": run.loaded.path,
        "headline_metric": HEADLINE.get(run.dataset_kind),
        "metrics": ({"step": last_eval.step, "loss": last_eval.loss, **last_eval.metrics} if last_eval else {}),
        "samples": last_eval.samples if last_eval else [],
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


def _workbench_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefix-workbench")
    except PackageNotFoundError:
        return "unknown"


def _model_card(info: dict[str, Any]) -> str:
    cfg = info["config"]
    metrics = "\n".join(f"| {k} | {v:.4g} |" for k, v in info["metrics"].items() if isinstance(v, int | float))
    auto = {"causal-lm": "AutoModelForCausalLM", "seq2seq": "AutoModelForSeq2SeqLM",
            "seq-cls": "AutoModelForSequenceClassification",
            "token-cls": "AutoModelForTokenClassification"}[info["task"]]  # fmt: skip
    return f"""# Prefix for {cfg["model"]["name"]} on {cfg["data"]["name"]}

A prefix-tuning adapter (Li & Liang, 2021) trained with prefix-workbench on PEFT
{info["versions"]["peft"]}. The base model stays frozen; this adapter holds
{info["parameters"]["stored"]:,} numbers ({cfg["prefix"]["length"]} virtual tokens at every layer,
{"reparametrized through an MLP during training" if cfg["prefix"]["projection"] else "trained directly"};
{info["parameters"]["trainable"]:,} parameters were trained).

- base model: `{info["base_model_path"]}` (`{cfg["model"]["name"]}`)
- task: {info["task"]}; dataset `{cfg["data"]["name"]}`; {info["steps_done"]} steps
- lr {cfg["train"]["lr"]}, batch size {cfg["train"]["batch_size"]}, init `{cfg["prefix"]["init"]}`,
  seed {cfg["train"]["seed"]}

## Validation metrics

| metric | value |
|---|---|
{metrics}

## Use it with plain PEFT

```python
from peft import PeftConfig, PeftModel
from transformers import AutoTokenizer, {auto}

cfg = PeftConfig.from_pretrained("adapter")
base = {auto}.from_pretrained(cfg.base_model_name_or_path)
model = PeftModel.from_pretrained(base, "adapter").eval()
tok = AutoTokenizer.from_pretrained("adapter")
```

Decoder prompts are formatted as `"{{source}} {cfg["data"]["separator"]}"` and the model continues
with the target. Everything else about the run is in `run.json`.
"""
