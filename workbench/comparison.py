"""Prefix tuning against its neighbours, on the same data and budget: one table.

Each :class:`Method` row names a way to adapt the frozen base — a prefix (length,
projection, init), PEFT prompt tuning, LoRA, or full fine-tuning — and how many
training examples it gets. :func:`compare` trains every row with the same
:class:`~workbench.train.Trainer` (same batches, seed, steps and evaluation) on a
fresh copy of the base model and reports trainable parameters, the stored size of
what it saves, train time, time per step, a training step's memory
(:mod:`workbench.memory`) and the task's metrics. Any model and data a run takes
work here (a user's file with its column mapping, a real model); the training size is
rows (``examples``) or, for data whose sources repeat, records (``records``).
``prefix-workbench compare`` prints the table and writes a plotly chart; notebook 04
shows it. This module does not draw (see :func:`workbench.plots.comparison_figure`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PromptTuningConfig, get_peft_model

from .config import PrefixSettings, RunConfig, TrainSettings
from .data import IGNORE, Collator, TaskData, encode_splits, load_task_data
from .errors import ConfigError
from .history import Callback, CurvePoint
from .memory import MB, StepMemory, step_memory
from .models import LoadedModel, load_model
from .models.objectives import HEAD_MODULES
from .models.sharing import LOADING, running
from .prefix import attach_prefix
from .process_state import seeded
from .quiet import quiet
from .train import Trainer
from .training_thread import on_training_thread

__all__ = ["DEFAULT_METHODS", "Method", "Result", "compare", "format_table"]


@dataclass(frozen=True)
class Method:
    """One row: ``kind`` is prefix, prompt, lora or full; ``examples`` (rows) and ``records`` (distinct sources,
    all their references) cap the training data, None means the config's."""

    label: str
    kind: str = "prefix"
    length: int = 10
    projection: bool = False
    init: str = "auto"  # the workbench's default start (prefix_init.resolve)
    init_text: str = ""
    dropout: float = 0.0  # prefix dropout (PrefixSettings.dropout)
    rank: int = 8
    lr: float | None = None  # None: the kind's default below
    warmup_steps: int | None = None  # None: the config's
    examples: int | None = None
    records: int | None = None


# Learning rates that suit each kind on small models (the prefix: the run default; full fine-tuning moves every
# weight).
_LR = {"prefix": TrainSettings().lr, "prompt": 3e-2, "lora": 3e-3, "full": 1e-3}

DEFAULT_METHODS: tuple[Method, ...] = (
    *(Method(f"prefix {n}", length=n) for n in (1, 5, 10, 20, 50)),
    Method("prefix 10 + projection", length=10, projection=True, lr=3e-3),
    Method("prompt tuning 10", kind="prompt", length=10),
    Method("LoRA r=8", kind="lora"),
    Method("full fine-tuning", kind="full"),
    Method("prefix 10, 200 examples", length=10, examples=200),
    Method("prefix 2 random, 50 examples", length=2, init="random", examples=50),
    Method("prefix 2 text init, 50 examples", length=2, init="text", init_text="describe :", examples=50),
)


@dataclass
class Result:
    method: Method
    trainable: int
    stored_bytes: int
    train_s: float
    metric: str
    value: float
    metrics: dict[str, Any] = field(default_factory=dict)
    examples: int = 0  # training rows it learned from
    records: int = 0  # distinct training sources among them
    step_s: float = 0.0  # train_s per optimizer step
    memory_bytes: int = 0  # one training step's accounted memory (CUDA: its measured peak)
    loss: float = float("nan")  # the final validation loss
    ended: str = ""  # why the training ended early (a non-finite loss, out of memory); "" when it completed
    curve: list[CurvePoint] = field(default_factory=list)  # every evaluation, in order (the last is the result)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "method": asdict(self.method)}


def _method_config(config: RunConfig, method: Method) -> RunConfig:
    """``config`` with ``method``'s prefix and training settings, checked as any run's are."""
    if method.kind not in _LR:
        raise ConfigError(f"method {method.label!r}: unknown kind {method.kind!r}; use {', '.join(_LR)}")
    cfg = copy.deepcopy(config)
    cfg.prefix = PrefixSettings(length=method.length, projection=method.projection, init=method.init,
                                init_text=method.init_text, dropout=method.dropout)  # fmt: skip
    cfg.train.lr = method.lr or _LR[method.kind]
    if method.warmup_steps is not None:
        cfg.train.warmup_steps = method.warmup_steps
    try:
        return cfg.validate()
    except ConfigError as exc:
        raise ConfigError(f"method {method.label!r}: {exc}") from None


def _adapt(loaded: LoadedModel, method: Method, config: RunConfig, data: TaskData) -> Any:
    task_type = loaded.objective.peft_task
    if method.kind == "prefix":
        return attach_prefix(loaded, config.prefix, seed=config.train.seed, data=data, choice=config.data)
    if method.kind == "prompt":
        with LOADING, quiet():
            model = get_peft_model(loaded.model, PromptTuningConfig(task_type=task_type,
                                                                    num_virtual_tokens=method.length))  # fmt: skip
        return _PromptTagger(model, method.length) if loaded.objective.head == "tags" else model
    if method.kind == "lora":
        # Every linear layer but a head's: PEFT trains the head whole (modules_to_save) and refuses LoRA on it.
        heads = [name for name in HEAD_MODULES if hasattr(loaded.model, name)] or None  # None: PEFT warns of nothing
        cfg = LoraConfig(task_type=task_type, r=method.rank, lora_alpha=2 * method.rank, target_modules="all-linear",
                         exclude_modules=heads)  # fmt: skip
        with LOADING, quiet():
            return get_peft_model(loaded.model, cfg)
    if method.kind == "full":
        loaded.model.requires_grad_(True)
        return loaded.model
    raise AssertionError(method.kind)  # _method_config refused it


class _PromptTagger(torch.nn.Module):
    """Prompt tuning for a token head: PEFT puts its virtual tokens before the input, so a token classifier's
    logits gain them but its labels do not (the loss's sizes disagree). This pads the labels with ignored
    positions for them and drops their logits, so the loss and the predictions line up with the words."""

    def __init__(self, model: Any, virtual: int) -> None:
        super().__init__()
        self.model, self.virtual = model, virtual

    def forward(self, input_ids: Any = None, attention_mask: Any = None, labels: Any = None, **kwargs: Any) -> Any:
        if labels is not None:
            labels = torch.cat([labels.new_full((labels.shape[0], self.virtual), IGNORE), labels], dim=1)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, **kwargs)
        out.logits = out.logits[:, self.virtual :]
        return out

    def save_pretrained(self, path: str, **kwargs: Any) -> None:
        self.model.save_pretrained(path, **kwargs)


def _stored_bytes(model: Any) -> int:
    with tempfile.TemporaryDirectory() as tmp, quiet():  # no "Writing model shards" bar for a full model
        model.save_pretrained(tmp)
        return sum(p.stat().st_size for p in Path(tmp).glob("*.safetensors"))


def compare(
    config: RunConfig,
    methods: Sequence[Method] = DEFAULT_METHODS,
    *,
    on_result: Callable[[Result], None] | None = None,
    callbacks: Sequence[Callback] = (),
    eval_every: int = 0,
) -> list[Result]:
    """Train every method on ``config``'s model and data with its train settings; one Result each.

    ``callbacks`` get every method's training events (each method's steps count from 1 again).
    ``eval_every``: steps between the evaluations that draw each method's learning curve (``Result.curve``);
    0 evaluates once, at the end.
    """
    results = []
    config.validate()  # data held in a DataFrame or Dataset gets its name here
    configs = [_method_config(config, method) for method in methods]  # a bad method fails before any trains
    full_data = load_task_data(config.data, seed=config.train.seed)
    metric = full_data.metric
    for method, method_config in zip(methods, configs):
        data = copy.copy(full_data)
        if method.records is not None:
            data = load_task_data(dataclasses.replace(config.data, max_train_records=method.records),
                                  seed=config.train.seed)  # fmt: skip
        if method.examples is not None:
            data.train = data.train.select(range(min(method.examples, len(data.train))))
        loaded = load_model(config.model, data.kind, label_names=data.label_names)
        with seeded(config.train.seed):  # LoRA's and prompt tuning's fresh weights too, not the user's stream
            model = _adapt(loaded, method, method_config, data)
        settings = method_config.train
        # A new head is the same problem whichever way the base adapts: it learns at the run's rate in every
        # method (at LoRA's or fine-tuning's rate, a 77-way head barely moves in a few hundred steps).
        settings.head_lr = config.train.head_lr or config.train.lr
        settings.eval_every = eval_every
        splits = encode_splits(data, loaded.tokenizer, loaded.objective, config.data)
        trainer = Trainer(model, loaded.tokenizer, loaded.objective, data, *splits, settings,
                          separator=config.data.separator)  # fmt: skip
        start = time.perf_counter()
        stop = threading.Event()
        history = on_training_thread(functools.partial(trainer.fit, callbacks, stop=stop), stop)  # the training thread
        train_s = time.perf_counter() - start
        final = history.evals[-1].metrics if history.evals else {}
        steps = history.last_step or 1
        result = Result(
            method=method,
            trainable=sum(p.numel() for p in trainer.params),
            stored_bytes=_stored_bytes(trainer.unwrapped),
            train_s=train_s,
            metric=metric,
            value=float(final.get(metric, float("nan"))),
            metrics=dict(final),
            examples=len(data.train),
            records=_records(data),
            step_s=(history.steps[-1].elapsed_s if history.steps else train_s) / steps,  # the final evaluation aside
            memory_bytes=_step_memory(trainer).total,
            loss=history.evals[-1].loss if history.evals else float("nan"),
            ended="" if history.ends[-1].reason == "completed" else history.ends[-1].summary,
            curve=history.curve(metric),
        )
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _records(data: TaskData) -> int:
    """Distinct training sources (records) for a kind that groups rows by one, else rows."""
    role = data.data_kind.group_role
    return len(set(data.train[role])) if role else len(data.train)


def _step_memory(trainer: Trainer) -> StepMemory:
    """One more training step after the run (its optimizer state exists by then), accounted; it changes nothing
    the result reports, which was measured before."""
    rows = trainer.train_split.features[: trainer.settings.batch_size]
    device = trainer.accelerator.device
    batch = {k: v.to(device) for k, v in Collator(trainer.tokenizer.pad_token_id)(rows).items()}
    optimizer = getattr(trainer.optimizer, "optimizer", trainer.optimizer)  # accelerate's wrapper holds it
    with running(trainer.unwrapped, training=True):
        return step_memory(
            trainer.unwrapped, optimizer, batch, autocast=trainer.accelerator.autocast, objective=trainer.objective
        )


def format_table(results: Sequence[Result]) -> str:
    """A plain-text table, one row per method."""
    head = f"{'method':<34}{'rows':>6}{'trainable':>13}{'stored':>11}{'train s':>9}{'s/step':>8}{'memory':>10}  metric"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.method.label:<34}{r.examples:>6}{r.trainable:>13,}{r.stored_bytes / 1024:>9.1f}kB"
            f"{r.train_s:>9.1f}{r.step_s:>8.2f}{r.memory_bytes / MB:>8.0f}MB  {r.metric} {r.value:.3f}"
            + (f"  ({r.ended})" if r.ended else "")
        )
    return "\n".join(lines)
