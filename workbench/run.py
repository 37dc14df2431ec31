"""A run: one model, one dataset, one prefix, trained, probed and exported.

:class:`Run` is the facade that the CLI, the notebook panel and scripts share. It
composes the pieces — load the model and data, attach a prefix, encode, train with
:class:`~workbench.train.Trainer`, generate, probe, export — and keeps their
results (history, metrics). It holds no logic of its own beyond wiring them, and
it knows nothing about widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .data import EncodedSplit, TaskData, encode_splits, load_task_data
from .errors import CompatibilityError
from .evaluate import EvalResult
from .generate import generate_texts
from .history import Callback, History, StepEvent
from .models import LoadedModel, load_model, resolve_task
from .prefix import Finding, ParameterCounts, attach_prefix, parameter_counts, preflight
from .probe import ProbeResult, prefix_attention
from .train import Trainer

__all__ = ["Run"]


class Run:
    """A prefix-tuning run; create with :meth:`create` (new) or :meth:`load` (exported)."""

    def __init__(
        self,
        config: RunConfig,
        loaded: LoadedModel,
        model: Any,
        data: TaskData | None,
        history: History | None = None,
    ) -> None:
        self.config = config
        self.loaded = loaded
        self.model = model
        self._data = data
        self.dataset_kind: str = data.kind if data else "text"
        self.label_names: list[str] | None = data.label_names if data else None
        self.history = history or History()
        self.findings: list[Finding] = []
        self._trainer: Trainer | None = None
        self._splits: tuple[EncodedSplit, EncodedSplit] | None = None
        self._lock = threading.Lock()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(cls, config: RunConfig | None = None, *, base: LoadedModel | None = None) -> Run:
        """Load model and data, check compatibility, attach a fresh prefix (seeded).

        ``base``: an already loaded base model to share (frozen, so runs can share it; the notebook
        panel does this for generative tasks). It must be ``config.model`` loaded for this dataset.
        """
        config = (config or RunConfig()).validate()
        torch.manual_seed(config.train.seed)
        data = load_task_data(config.data, seed=config.train.seed)
        wanted = (config.model.name, resolve_task(base.architecture, data.kind)) if base else None
        if base is not None and (base.name, base.task) != wanted:
            raise ValueError(f"the shared base model is {base.name!r} for {base.task}, not {config.model.name!r} "
                             f"for a {data.kind} dataset")  # fmt: skip
        loaded = base or load_model(config.model, data.kind, label_names=data.label_names)
        findings = preflight(loaded, config.prefix, max_length=config.data.max_length)
        errors = [f for f in findings if f.level == "error"]
        if errors:
            raise CompatibilityError(errors[0].message)
        model = attach_prefix(loaded, config.prefix, seed=config.train.seed)
        run = cls(config, loaded, model, data)
        run.findings = findings
        return run

    @classmethod
    def load(cls, path: str | Path) -> Run:
        """Import an exported run directory (see :mod:`workbench.export`)."""
        from .export import load_run

        return load_run(path)

    # -- what it is --------------------------------------------------------------------------

    @property
    def data(self) -> TaskData:
        if self._data is None:
            self._data = load_task_data(self.config.data, seed=self.config.train.seed)
        return self._data

    @property
    def tokenizer(self) -> Any:
        return self.loaded.tokenizer

    @property
    def task(self) -> str:
        return self.loaded.task

    @property
    def counts(self) -> ParameterCounts:
        return parameter_counts(self.model)

    @property
    def live_model(self) -> Any:
        """The prefix-tuned model as training left it (the trainer's, once there is one)."""
        return self.trainer.unwrapped if self._trainer else self.model

    @property
    def is_training(self) -> bool:
        return self._lock.locked()

    # -- doing -------------------------------------------------------------------------------

    @classmethod
    def resume(cls, path: str | Path, *, steps: int | None = None) -> Run:
        """Continue a run from the checkpoint in its run directory (after a restart or a kill)."""
        from .export import resume_run

        return resume_run(path, steps=steps)

    def train(
        self,
        callbacks: Iterable[Callback] = (),
        *,
        stop: threading.Event | None = None,
        checkpoint_to: str | Path | None = None,
    ) -> History:
        """Train (or continue) to ``config.train.steps``; returns the history. One at a time.

        With ``checkpoint_to`` and ``config.train.checkpoint_every > 0`` the run directory is
        rewritten (atomically, with its resumable state) every that many steps.
        """
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this run is already training; wait for it or stop it first")
        callbacks = list(callbacks)
        every = self.config.train.checkpoint_every
        if checkpoint_to is not None and every > 0:
            callbacks.append(self._checkpointer(Path(checkpoint_to), every))
        try:
            return self.trainer.fit(callbacks, stop=stop)
        finally:
            self._lock.release()

    def _checkpointer(self, path: Path, every: int) -> Callback:
        from .export import save_run

        due = (self.history.last_step // every + 1) * every

        def checkpoint(event: Any) -> None:
            nonlocal due
            if isinstance(event, StepEvent) and event.step >= due:
                save_run(self, path, overwrite=True, checkpoint=True)
                due = (event.step // every + 1) * every

        return checkpoint

    def stop(self) -> None:
        """Ask a training in progress to end after its current step."""
        if self._trainer is not None:
            self._trainer.request_stop()

    def evaluate(self) -> EvalResult:
        return self.trainer.evaluate()

    def generate(
        self, prompts: Sequence[str], *, use_prefix: bool = True, max_new_tokens: int | None = None
    ) -> list[str]:
        """Greedy outputs for ``prompts`` with the prefix (or the frozen base, ``use_prefix=False``)."""
        return generate_texts(
            self.live_model,
            self.tokenizer,
            list(prompts),
            task=self.task,
            separator=self.config.data.separator,
            max_new_tokens=max_new_tokens or self.config.train.max_new_tokens,
            use_prefix=use_prefix,
        )

    def probe(self, examples: Sequence[tuple[str, str]] | None = None, *, step: int | None = None) -> ProbeResult:
        """Attention onto the prefix for (source, target) ``examples`` (default: the first validation row)."""
        if examples is None:
            examples = [self.data.render(self.data.validation[0])]
        return prefix_attention(
            self.live_model,
            self.tokenizer,
            list(examples),
            task=self.task,
            separator=self.config.data.separator,
            step=self.history.last_step if step is None else step,
        )

    def export(self, path: str | Path, *, overwrite: bool = False, checkpoint: bool | None = None) -> Path:
        """Write the run directory: PEFT adapter (+ tokenizer), run.json, README.md (+ checkpoint/)."""
        from .export import save_run

        return save_run(self, path, overwrite=overwrite, checkpoint=checkpoint)

    @property
    def trainer(self) -> Trainer:
        if self._trainer is None:
            train, val = self.splits
            self._trainer = Trainer(
                self.model, self.tokenizer, self.task, self.data, train, val, self.config.train,
                separator=self.config.data.separator, history=self.history,
            )  # fmt: skip
        return self._trainer

    @property
    def splits(self) -> tuple[EncodedSplit, EncodedSplit]:
        if self._splits is None:
            self._splits = encode_splits(self.data, self.tokenizer, self.task, self.config.data)
        return self._splits

    def __repr__(self) -> str:
        c = self.config
        return (f"Run(model={c.model.name!r}, data={c.data.name!r}, prefix={c.prefix.length}, "
                f"step={self.history.last_step}/{c.train.steps})")  # fmt: skip
