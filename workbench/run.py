"""A run: one model, one dataset, one prefix, trained, probed and exported.

:class:`Run` is the facade that the CLI, the notebook panel and scripts share. It
composes the pieces — load the model and data, attach a prefix, encode, train with
:class:`~workbench.train.Trainer`, evaluate, generate, probe, write and read run
directories (:mod:`workbench.rundir`) — and keeps their results (history, the final
test evaluation). Its lifecycle: :meth:`create` (or :meth:`load` / :meth:`resume`),
then :meth:`train` as often as wanted — ``train(steps=N)`` continues to a total of N
with the schedule re-planned for it — then :meth:`export`. It holds no logic of its
own beyond wiring the pieces, and it knows nothing about widgets.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .attention import ProbeResult, prefix_attention
from .config import DataChoice, RunConfig, short_name
from .data import EncodedSplit, TaskData, encode_split, encode_splits, load_task_data
from .data.conversations import Conversation
from .data.kinds import DATA_KINDS
from .errors import BusyError, CompatibilityError, ConfigError, ExportError, WriteError, one_line
from .evaluate import EvalResult, evaluate_with
from .generate import generate_texts
from .history import Callback, History, StepEvent, check_total
from .models import LoadedModel, load_model
from .models.fingerprint import fingerprint
from .models.objectives import FORMER_TASK, Objective, resolve_objective
from .prefix import Finding, ParameterCounts, attach_prefix, parameter_counts, preflight
from .run_info import data_info_of, run_record
from .run_record import RunRecord
from .rundir import (
    CHECKPOINT_DIR,
    open_adapter,
    read_checkpoint,
    read_run_record,
    rescue_adapter,
    write_run_dir,
)
from .tracking import tracked
from .train import Trainer
from .training_thread import on_training_thread
from .try_it import Replies, try_prompt

__all__ = ["Run"]


class Run:
    """A prefix-tuning run; create with :meth:`create` (new), :meth:`load` (exported) or :meth:`resume`."""

    def __init__(
        self,
        config: RunConfig,
        loaded: LoadedModel,
        model: Any,
        data: TaskData | None,
        history: History | None = None,
        *,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.loaded = loaded
        self.model = model
        self._data = data
        # What the trained head or prefix depends on, kept for a run whose data is not loaded (yet).
        self.data_info: dict[str, Any] = data_info or data_info_of(data, loaded.tokenizer)
        self.history = history or History()
        self.findings: list[Finding] = []
        self.test: EvalResult | None = None  # the final evaluation on the test split, when there is one
        self.checkpoint_problem: str | None = None  # the last checkpoint write the disk refused (training went on)
        self.tracked_where: str | None = None  # where the last train() call was tracked, as a command to open it
        self.track_as: tuple[str, str] | None = None  # (experiment, run name) for trackers; None: the defaults
        self._trainer: Trainer | None = None
        self._splits: tuple[EncodedSplit, EncodedSplit] | None = None
        self._lock = threading.Lock()
        self._training_thread: int | None = None  # the thread in train(), which alone may export mid-run

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(cls, config: RunConfig | None = None, *, base: LoadedModel | None = None,
               data: TaskData | None = None) -> Run:  # fmt: skip
        """Load model and data, check compatibility, attach a fresh prefix (seeded).

        ``base``: an already loaded base model to share (frozen, so runs can share it; the notebook
        panel and sweeps do). It must be ``config.model`` loaded for this dataset. A base that cannot be
        shared (:attr:`LoadedModel.shareable`: a classifier's) is left alone and the run loads its own.
        ``data``: ``config.data`` already loaded with this seed (a sweep's trials share it; read only).
        """
        # The run's own copy: editing it changes no other run. (Validating first names an in-memory object —
        # cfg.data.name = df — in the caller's config, so the copy holds the name, not a copy of the frame.)
        config = copy.deepcopy((config or RunConfig()).validate())
        data = data or load_task_data(config.data, seed=config.train.seed)
        wanted = (config.model.name, resolve_objective(base.architecture, data.kind)) if base else None
        if base is not None and (base.name, base.objective) != wanted:
            raise ConfigError(f"the shared base model is {base.name!r} for {base.objective}, not {config.model.name!r} "
                             f"for a {data.kind} dataset")  # fmt: skip
        if base is not None and not base.shareable:
            base = None
        if base is not None:
            # Runs share the frozen weights, not the tokenizer: a fast tokenizer keeps each call's padding and
            # truncation in its backend, so two threads encoding with one would mix their settings.
            base = dataclasses.replace(base, tokenizer=copy.deepcopy(base.tokenizer))
        loaded = base or load_model(config.model, data.kind, label_names=data.label_names)
        findings = preflight(loaded, config.prefix, max_length=config.data.max_length, data=data, lr=config.train.lr)
        errors = [f for f in findings if f.level == "error"]
        if errors:
            raise CompatibilityError(errors[0].message)
        model = attach_prefix(loaded, config.prefix, seed=config.train.seed, data=data, choice=config.data)
        run = cls(config, loaded, model, data)
        run.findings = findings
        return run

    @classmethod
    def load(cls, path: str | Path) -> Run:
        """Import an exported run directory: base model + adapter, settings and history (no training state)."""
        record = read_run_record(path)
        config = record.config
        loaded = load_model(config.model, record.dataset_kind, label_names=record.label_names)
        model = open_adapter(path, loaded.model, config.model.name, fingerprint=record.base_fingerprint)
        return cls(config, loaded, model, None, record.history, data_info=record.data_info())

    @classmethod
    def resume(cls, path: str | Path, *, steps: int | None = None) -> Run:
        """Continue a run from the checkpoint in its run directory (after a restart or a kill).

        ``steps``: a new total (the schedule is re-planned for it, as :meth:`train` does).
        """
        record = read_run_record(path)
        state = read_checkpoint(Path(path).expanduser() / CHECKPOINT_DIR)
        config = record.config
        if steps is not None:  # refused before the model loads; without a new total, train() says it
            check_total(int(state["step"]), steps)
            config.train.steps = steps
        run = cls.create(config)
        run.history = record.history
        try:
            run.trainer.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError) as exc:  # another run's checkpoint, or a damaged one
            raise ExportError(f"the checkpoint in {str(path)!r} does not fit this run's prefix ({one_line(exc)}); "
                              "it belongs to another run or is damaged") from None  # fmt: skip
        return run

    # -- what it is --------------------------------------------------------------------------

    @property
    def data(self) -> TaskData:
        if self._data is None:
            self._data = self.load_data(self.config.data)
        return self._data

    def load_data(self, choice: DataChoice) -> TaskData:
        """A dataset read the way this run reads its own: same label ids, target scale and headline metric, and the
        run's column mapping for the roles ``choice.columns`` leaves open, where the dataset has those columns (so
        another file with the columns the run was trained on needs no mapping; one given still wins)."""
        data = load_task_data(choice, seed=self.config.train.seed, label_names=self.label_names,
                              carried_columns=self.config.data.columns)  # fmt: skip
        if data.kind != self.dataset_kind:
            raise ConfigError(f"{choice.name!r} is a {data.kind} dataset; this run learned a {self.dataset_kind} one")
        data.target_stats = _stats(self.data_info.get("target_stats")) or data.target_stats
        data.metric = choice.metric or self.data_info.get("metric") or data.metric
        return data

    @property
    def dataset_kind(self) -> str:
        return self.data_info["kind"]

    @property
    def label_names(self) -> list[str] | None:
        return self.data_info.get("label_names")

    @property
    def metric(self) -> str:
        """The headline metric of this run's evaluations."""
        return self.data_info.get("metric") or ""

    @functools.cached_property
    def base_fingerprint(self) -> str:
        """The frozen base's fingerprint (:func:`workbench.models.fingerprint.fingerprint`), taken once."""
        return fingerprint(self.model)

    @property
    def tokenizer(self) -> Any:
        return self.loaded.tokenizer

    @property
    def objective(self) -> Objective:
        """What the model is trained to output: text (causal-lm, seq2seq) or a head's labels, numbers or tags."""
        return self.loaded.objective

    task = FORMER_TASK  # deprecated: a *task* is now only a member of a multi-task mixture

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

    def train(
        self,
        callbacks: Iterable[Callback] = (),
        *,
        steps: int | None = None,
        stop: threading.Event | None = None,
        checkpoint_to: str | Path | None = None,
    ) -> History:
        """Train to ``config.train.steps`` (or to a new total ``steps``); returns the history. One at a time.

        Calling again continues: ``train(steps=N)`` (or raising ``config.train.steps``) trains on to N,
        the learning-rate schedule re-planned for the new total; a total below the steps done is refused.
        A completed run on data with a test split ends with an evaluation there (:attr:`test`).
        With ``checkpoint_to`` and ``config.train.checkpoint_every > 0`` the run directory is rewritten
        (atomically, with its resumable state) every that many steps. With ``config.train.report_to`` the
        call is also logged as one run to TensorBoard and/or MLflow (:mod:`workbench.tracking`).
        """
        if not self._lock.acquire(blocking=False):
            raise BusyError("this run is already training (or being analysed); wait for it or stop it first")
        stop = stop or threading.Event()  # Ctrl-C / SIGTERM while a cell or the CLI waits: stop at a step boundary
        try:
            return on_training_thread(lambda: self._train(list(callbacks), steps, stop, checkpoint_to), stop)
        finally:
            self._lock.release()

    def _train(self, callbacks: list[Callback], steps: int | None, stop: threading.Event,
               checkpoint_to: str | Path | None) -> History:  # fmt: skip
        self._training_thread = threading.get_ident()
        check_total(self.history.last_step, self.config.train.steps if steps is None else steps)
        if steps is not None:
            self.config.train.steps = steps
            self.config.validate()
        every = self.config.train.checkpoint_every
        if checkpoint_to is not None and every > 0:
            callbacks.append(self._checkpointer(Path(checkpoint_to), every))
        with tracked(self) as tracking:  # ends the tracked run with the final (and test) metrics
            self.tracked_where = tracking[0].where if tracking else None
            history = self.trainer.fit([*callbacks, *tracking], stop=stop)
            if history.ends[-1].reason == "completed" and self.data.test is not None:
                # A stop during it (Ctrl-C, SIGTERM: scoring a real model's test split takes minutes) leaves none.
                self.test = self._evaluate("test", self.data, report=True, stop=stop.is_set)
        return history

    @contextmanager
    def exclusive(self, doing: str) -> Iterator[None]:
        """Hold the run for ``doing`` (e.g. an analysis that reads its prefix many times): refused while it
        trains, and training it meanwhile is refused."""
        if not self._lock.acquire(blocking=False):
            raise BusyError(f"this run is training; stop it (or wait for it) before {doing}")
        try:
            yield
        finally:
            self._lock.release()

    def _checkpointer(self, path: Path, every: int) -> Callback:
        due = (self.history.last_step // every + 1) * every

        def checkpoint(event: Any) -> None:
            nonlocal due
            if isinstance(event, StepEvent) and event.step >= due:
                due = (event.step // every + 1) * every
                try:
                    self.export(path, overwrite=True, checkpoint=True)
                except WriteError as exc:  # the previous checkpoint is intact; the prefix trains on in memory
                    self.checkpoint_problem = f"step {event.step}: {exc}"

        return checkpoint

    def release(self) -> None:
        """Free what only training needs — the trainer, its optimizer state, the encoded splits — and keep the
        prefix, history and settings (generate, probe, evaluate and export still work). Training again builds
        a new trainer, with a fresh optimizer. The notebook panel does this to the runs it no longer trains."""
        if self.is_training:
            raise BusyError("this run is training; stop it before releasing it")
        if self._trainer is not None:
            self.model = self._trainer.unwrapped
        self._trainer, self._splits = None, None

    def stop(self) -> None:
        """Ask a training in progress to end after its current step."""
        if self._trainer is not None:
            self._trainer.request_stop()

    def evaluate(self, split: str = "validation", *, data: TaskData | None = None, report: bool = False) -> EvalResult:
        """Loss and metrics on ``split`` of this run's data (or of ``data``, see :meth:`load_data`).

        ``report``: add per-label detail (classification report and confusion matrix, per entity type).
        """
        result = self._evaluate(split, data or self.data, report=report, stop=None)
        assert result is not None  # only a stop callable abandons an evaluation
        return result

    def _evaluate(self, split: str, data: TaskData, *, report: bool,
                  stop: Callable[[], bool] | None) -> EvalResult | None:  # fmt: skip
        encoded = encode_split(data, split, self.tokenizer, self.objective, max_length=self.config.data.max_length,
                               separator=self.config.data.separator)  # fmt: skip
        return evaluate_with(
            self.config.train, self.live_model, self.tokenizer, self.objective, data, encoded, split=split,
            separator=self.config.data.separator, report=report, stop=stop,
            autocast=self._trainer.accelerator.autocast if self._trainer else None,
        )  # fmt: skip

    def final_evaluation(self) -> EvalResult | None:
        """The run's last word, with its per-label report: the test split's evaluation when there is one,
        else the latest validation evaluation of this session (None before any)."""
        if self.test is not None:
            return self.test
        last = self._trainer.last_eval if self._trainer else None
        if last is not None and not last.report and last.rows:  # no rows scored (eval_generate 0): no report
            last.report = self.data.data_kind.report(last.predictions, last.rows, self.data)
        return last

    def generate(
        self,
        prompts: Sequence[str | Conversation],
        *,
        use_prefix: bool = True,
        max_new_tokens: int | None = None,
        stop: Callable[[], bool] | None = None,
        streamer: Any = None,
    ) -> list[str]:
        """Greedy outputs for ``prompts`` with the prefix (or the frozen base, ``use_prefix=False``).

        For a run on chat data a prompt is a user turn or a list of ``{"role", "content"}`` messages, written
        with the base's chat template as in training; a language-modelling run continues the text itself.
        ``stop`` ends the work at the next token once it is true; ``streamer`` (transformers') sees the tokens
        of a single prompt as they come.
        """
        return generate_texts(
            self.live_model,
            self.tokenizer,
            [self.as_prompt(p) for p in prompts],
            objective=self.objective,
            separator=self.separator,
            max_new_tokens=max_new_tokens or self.config.train.max_new_tokens,
            use_prefix=use_prefix,
            one_line=self.data_info.get("one_line", False),
            stop=stop,
            streamer=streamer,
        )

    def as_prompt(self, prompt: str | Conversation) -> str | Conversation:
        """A prompt as this run's model reads it (a chat run's string is a user turn), or a one-line error."""
        return DATA_KINDS[self.dataset_kind].as_prompt(prompt)

    @property
    def separator(self) -> str:
        """What follows a source in a decoder's prompt (nothing for language modelling: a text is continued)."""
        return self.config.data.separator if DATA_KINDS[self.dataset_kind].layout != "whole" else ""

    def try_it(self, prompt: str | Conversation, **options: Any) -> Replies:
        """The frozen base's and the prefix's replies to ``prompt``, and the attention onto the prefix for it
        (:func:`workbench.try_it.try_prompt`; ``options``: ``max_new_tokens``, ``on_text``, ``stop``)."""
        return try_prompt(self, prompt, **options)

    def probe(self, examples: Sequence[tuple[str, str]] | None = None, *, step: int | None = None) -> ProbeResult:
        """Attention onto the prefix for (source, target) ``examples`` (default: the first validation row)."""
        if examples is None:
            examples = [self.data.render(self.data.validation[0])]
        return prefix_attention(
            self.live_model,
            self.tokenizer,
            list(examples),
            objective=self.objective,
            separator=self.separator,
            step=self.history.last_step if step is None else step,
        )

    def export(self, path: str | Path, *, overwrite: bool = False, checkpoint: bool | None = None) -> Path:
        """Write the run directory: PEFT adapter (+ tokenizer), run.json, README.md (+ checkpoint/).

        ``checkpoint`` adds the resumable training state (default: when ``checkpoint_every > 0``).
        """
        if self.is_training and threading.get_ident() != self._training_thread:
            # A prefix read between two optimizer steps of another thread could be half updated.
            raise ExportError("this run is training; stop it (or wait for it) before exporting, or set "
                              "checkpoint_every to have it write its directory as it trains")  # fmt: skip
        if checkpoint is None:
            checkpoint = self.config.train.checkpoint_every > 0
        state = self.trainer.state_dict() if checkpoint and self._trainer is not None else None
        return write_run_dir(path, model=self.live_model, tokenizer=self._saved_tokenizer(), record=self.record(),
                             state=state, overwrite=overwrite)  # fmt: skip

    def _saved_tokenizer(self) -> Any:
        """The tokenizer an export carries: for conversations written with the plain template, a copy that holds
        it as its chat template, so plain transformers' ``apply_chat_template`` writes what the prefix learned."""
        record = self.data_info.get("chat_template")
        if not record or record["template"] != "plain":
            return self.tokenizer
        tokenizer = copy.deepcopy(self.tokenizer)
        tokenizer.chat_template = record["text"]
        return tokenizer

    def rescue(self, name: str) -> Path | None:
        """After an export the disk refused: a copy of the adapter and run.json wherever one fits (None if
        nowhere), so the trained prefix outlives the session."""
        return rescue_adapter(self.live_model, self._saved_tokenizer(), self.record(), name)

    def finish(self, path: str | Path, *, checkpoint: bool | None = None) -> Path:
        """The end of every training a front end runs, whatever its ending: write the run directory at
        ``path``, replacing what checkpoints wrote there (``checkpoint`` as in :meth:`export`). When the disk
        refuses it, the trained prefix is saved wherever a copy fits and the :class:`WriteError` says where,
        and how to move it into place."""
        path = Path(path)
        try:
            return self.export(path, overwrite=True, checkpoint=checkpoint)
        except WriteError as exc:
            copy = self.rescue(path.name)
            if copy is None:
                where = "and no other place (the cache, the temporary folder, /dev/shm) took a copy either"
            else:
                size = sum(f.stat().st_size for f in copy.rglob("*") if f.is_file()) / 1024
                where = f"the trained prefix is saved in {copy} ({size:,.0f} kB): move it there with `mv {copy} {path}`"
            raise WriteError(f"{exc}; {where}") from None

    def record(self) -> RunRecord:
        """What ``run.json`` says of this run as it is now: settings, data, final metrics, history, counts,
        versions."""
        return run_record(self)

    def info(self) -> dict[str, Any]:
        """:meth:`record` as the JSON object ``run.json`` holds."""
        return self.record().to_dict()

    @property
    def trainer(self) -> Trainer:
        if self._trainer is None:
            train, val = self.splits
            self._trainer = Trainer(
                self.model, self.tokenizer, self.objective, self.data, train, val, self.config.train,
                separator=self.config.data.separator, history=self.history,
            )  # fmt: skip
        return self._trainer

    @property
    def splits(self) -> tuple[EncodedSplit, EncodedSplit]:
        if self._splits is None:
            self._splits = encode_splits(self.data, self.tokenizer, self.objective, self.config.data)
        return self._splits

    def __repr__(self) -> str:
        c = self.config
        return (f"Run(model={short_name(c.model.name)!r}, data={short_name(c.data.name)!r}, prefix={c.prefix.length}, "
                f"step={self.history.last_step}/{c.train.steps})")  # fmt: skip


def _stats(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None
