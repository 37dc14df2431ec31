"""The training loop: settings, model and data in; events to callbacks; history out.

:class:`Trainer` optimises only the trainable parameters of a prefix-tuned model
(the prefix, its projection MLP, a head) with AdamW, a warmup + decay
schedule, gradient accumulation and clipping. ``accelerate`` places it on the
device, applies bf16/fp16 autocast on CUDA and runs it under DDP when launched
with ``accelerate launch``. Loss values are read from the device only at logged
steps, and on one CUDA device at most every 0.25 s (``log_every_s``; the event
then averages the steps since), so a GPU is not synced every step. A cooperative
stop flag (also set by Ctrl-C / SIGTERM in the main thread) ends the run at a
step boundary; a non-finite loss ends it with the last good prefix restored. The
loop knows nothing about widgets or files.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from transformers import get_scheduler

from .config import TrainSettings
from .data import Collator, EncodedSplit, TaskData
from .data.batching import epoch_batches, row_length
from .errors import TrainingError
from .evaluate import EvalResult, evaluate_with
from .history import Callback, EndEvent, EvalEvent, Event, History, StepEvent, check_total
from .loss import batch_loss
from .models.objectives import Objective, as_objective, is_head_parameter
from .models.sharing import base_lock
from .process_state import RandomStream
from .threads import CpuWait, ThreadGovernor
from .training_thread import stop_on_signals

__all__ = ["Trainer", "pick_precision"]

# Reading a loss makes the host wait for the device; by default only accelerators are throttled.
_READ_EVERY_S = {"cuda": 0.25}


def pick_precision(settings: TrainSettings) -> str:
    """accelerate's mixed_precision: bf16 (or fp16) autocast on CUDA, none on CPU."""
    if settings.precision != "auto":
        return {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}[settings.precision]
    if settings.device in ("auto", "cuda") and torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


class Trainer:
    """Trains the trainable parameters of ``model``; one instance can ``fit`` again to continue."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        objective: Objective | str,
        data: TaskData,
        train_split: EncodedSplit,
        val_split: EncodedSplit,
        settings: TrainSettings,
        *,
        separator: str = "->",
        history: History | None = None,
    ) -> None:
        self.settings = settings
        self.objective, self.data, self.tokenizer, self.separator = as_objective(objective), data, tokenizer, separator
        self.train_split, self.val_split = train_split, val_split
        self.history = history or History()
        self.last_eval: EvalResult | None = None  # the latest evaluation in full (predictions and rows)
        self.step = self.history.last_step
        self._stop = threading.Event()
        self.accelerator = _accelerator(settings)
        self.params = [p for p in model.parameters() if p.requires_grad]
        # Only trainable tensors enter the optimizer: frozen weights get no gradients and no state.
        self.optimizer = torch.optim.AdamW(_param_groups(model, settings), lr=settings.lr,
                                           weight_decay=settings.weight_decay)  # fmt: skip
        self.model, self.optimizer = self.accelerator.prepare(model, self.optimizer)
        self._lock = base_lock(model)
        # Dropout draws from the run's own seeded stream: the user's global generator is neither used nor moved.
        self.random = RandomStream(settings.seed, self.accelerator.device)
        self.scheduler = self._schedule()
        self._collate = Collator(tokenizer.pad_token_id)
        self._read_every_s = self._read_interval()
        self._elapsed_before = sum(e.elapsed_s for e in self.history.ends[-1:])

    @property
    def unwrapped(self) -> Any:
        return self.accelerator.unwrap_model(self.model)

    def request_stop(self) -> None:
        """Ask the loop to end after the current step (thread-safe)."""
        self._stop.set()

    def fit(self, callbacks: Iterable[Callback] = (), *, stop: threading.Event | None = None) -> History:
        """Train until ``settings.steps`` (counting earlier fits), a stop request, a non-finite loss or the device
        running out of memory; every ending returns, the last :class:`EndEvent` of the history says which.

        A total raised since the last fit re-plans the schedule for it (see :meth:`_schedule`).
        """
        check_total(self.step, self.settings.steps)
        if self.settings.steps != self._planned:
            self.scheduler = self._schedule()
        callbacks = list(callbacks)
        self._stop.clear()
        stop_flag = stop or self._stop
        stopping = lambda: stop_flag.is_set() or self._stop.is_set()  # noqa: E731
        s = self.settings
        start = time.perf_counter()
        # The CPU's threads follow what other processes leave free (not on an accelerator, whose host waits).
        governor = ThreadGovernor(enabled=self.accelerator.device.type == "cpu")
        clock = {"t": start, "tokens": 0, "loss": torch.zeros((), device=self.accelerator.device), "n": 0,
                 "waited": CpuWait(), "governor": governor}  # fmt: skip
        good = [p.detach().clone() for p in self.params]  # last prefix known to give a finite loss
        batches = self._batches()
        reason: str = "completed"
        message = ""
        self._set_mode(training=True)
        out_of_memory: list[str] = []  # the one-line reason, when the device ran out
        with stop_on_signals(stop_flag), _out_of_memory_ends(self, out_of_memory), governor:
            while self.step < s.steps:
                if stopping():
                    reason, message = "stopped", f"stopped at step {self.step}"
                    break
                governor.adjust()
                for _ in range(s.grad_accum):
                    batch, tokens = next(batches)
                    # The base may be shared with runs that generate from other threads (the panel).
                    with self._lock, self.random, self.accelerator.accumulate(self.model):
                        loss = batch_loss(self.model, batch, self.objective)
                        self.accelerator.backward(loss)
                        if self.accelerator.sync_gradients and s.max_grad_norm > 0:
                            self.accelerator.clip_grad_norm_(self.params, s.max_grad_norm)
                        self.optimizer.step()
                        self.optimizer.zero_grad(set_to_none=True)
                    clock["loss"] += loss.detach().float()
                    clock["n"] += 1
                    clock["tokens"] += tokens
                self.scheduler.step()
                self.step += 1
                evaluating = self.step < s.steps and s.evaluates_at(self.step)  # the last step's comes below
                if self._log_due(clock, boundary=evaluating or stopping()):
                    event = self._log(clock, start)
                    if not math.isfinite(event.loss):
                        with torch.no_grad():
                            torch._foreach_copy_(self.params, good)
                        reason = "non-finite"
                        message = (f"loss became {event.loss} at step {self.step}; kept the prefix of the last "
                                   f"finite step; try a lower learning rate (now {s.lr:g})")  # fmt: skip
                        self._emit(event, callbacks)
                        break
                    with torch.no_grad():
                        torch._foreach_copy_(good, [p.detach() for p in self.params])
                    self._emit(event, callbacks)
                if evaluating:
                    self._evaluate_and_emit(start, stopping, callbacks)
        if out_of_memory:
            reason, message = "out-of-memory", out_of_memory[0]
        if reason == "completed" and (not self.history.evals or self.history.evals[-1].step != self.step):
            self._evaluate_and_emit(start, stopping, callbacks)
        elapsed = self._elapsed_before + time.perf_counter() - start
        self._emit(EndEvent(self.step, reason, message, elapsed), callbacks)  # type: ignore[arg-type]
        self._elapsed_before = elapsed
        self._set_mode(training=False)
        return self.history

    def evaluate(self) -> EvalResult:
        """Evaluate now on the validation split (no event, no history entry)."""
        result = self._evaluate(stop=None)
        assert result is not None  # only a stop callable abandons an evaluation
        return result

    def _evaluate(self, stop: Callable[[], bool] | None) -> EvalResult | None:
        return evaluate_with(self.settings, self.unwrapped, self.tokenizer, self.objective, self.data, self.val_split,
                             separator=self.separator, autocast=self.accelerator.autocast, stop=stop)  # fmt: skip

    def _set_mode(self, *, training: bool) -> None:
        # Under the base's lock: a generation from another thread puts back the mode it found.
        with self._lock:
            self.model.train(training)

    def _schedule(self) -> Any:
        """The learning-rate schedule for ``settings.steps``, positioned at the current step.

        Continuing past the planned total re-plans: the remaining steps follow the schedule a
        run planned for the new total from the start would have (a linear decay to 0 at the new
        end), never the finished one's learning rate of 0.
        """
        s = self.settings
        self._planned = s.steps
        scheduler = get_scheduler(s.schedule, self.optimizer, num_warmup_steps=s.warmup(),
                                  num_training_steps=s.steps)  # fmt: skip
        if self.step:
            scheduler.last_epoch = self.step - 1
            with warnings.catch_warnings():  # PyTorch warns when a schedule steps before the optimizer has
                warnings.simplefilter("ignore", UserWarning)
                scheduler.step()
        return scheduler

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run: trainable tensors, optimizer, schedule, step."""
        trainable = {n: p.detach().cpu() for n, p in self.unwrapped.named_parameters() if p.requires_grad}
        return {
            "trainable": trainable,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            # the dropout stream; the batch order follows from (seed, step) alone
            "rng": self.random.state[0],
            "cuda_rng": self.random.state[1],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (:meth:`state_dict`); a ValueError names what does not fit, before any change."""
        named = {n: p for n, p in self.unwrapped.named_parameters() if p.requires_grad}
        if set(state["trainable"]) != set(named):
            odd = sorted(set(state["trainable"]) ^ set(named))
            raise ValueError(f"its trainable tensors differ from this run's ({odd[0]}…)")
        for name, tensor in state["trainable"].items():
            if tensor.shape != named[name].shape:
                raise ValueError(f"{name} is {tuple(tensor.shape)} there, {tuple(named[name].shape)} here")
        moments = [s.get("exp_avg") for s in state["optimizer"]["state"].values()]
        shapes = sorted(tuple(m.shape) for m in moments if m is not None)
        if shapes and shapes != sorted(tuple(p.shape) for p in self.params):
            raise ValueError("its optimizer state is for tensors of other shapes")
        with torch.no_grad():
            for name, tensor in state["trainable"].items():
                named[name].copy_(tensor)
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        # The schedule follows from (settings, step): a resumed run with a new total re-plans like a continued one.
        self.scheduler = self._schedule()
        cuda = state.get("cuda_rng")
        if "rng" in state:  # a CUDA state continues on CUDA only (a run resumed on another device starts anew)
            keep = isinstance(cuda, torch.Tensor) and self.random.device.type == "cuda"
            self.random.state = (state["rng"], cuda if keep else self.random.state[1])

    # -- internals --------------------------------------------------------------------------

    def _batches(self) -> Iterator[tuple[dict[str, torch.Tensor], int]]:
        """Endless seeded epochs; each process of a DDP run takes its own share of every batch."""
        feats, bs = self.train_split.features, self.settings.batch_size
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        device, pin = self.accelerator.device, self.accelerator.device.type == "cuda"
        micro = self.step * self.settings.grad_accum  # resume where the run left off
        per_epoch = max(len(feats) // bs, 1)
        lengths = [row_length(f) for f in feats]
        while True:
            epoch, offset = divmod(micro, per_epoch)
            batches = epoch_batches(lengths, bs, seed=self.settings.seed, epoch=epoch,
                                    by_length=self.settings.group_by_length)  # fmt: skip
            for b in range(offset, per_epoch):
                rows = [feats[i] for i in batches[b]][rank::world]
                batch = self._collate(rows)
                tokens = int(batch["attention_mask"].sum())
                if pin:
                    batch = {k: v.pin_memory() for k, v in batch.items()}
                yield {k: v.to(device, non_blocking=True) for k, v in batch.items()}, tokens
                micro += 1

    def _log_due(self, clock: dict[str, Any], *, boundary: bool) -> bool:
        """Log this step? Every ``log_every`` steps, time-throttled except before an evaluation, a stop or the end."""
        s = self.settings
        if self.step == s.steps:
            return True
        if self.step % s.log_every:
            return False
        return boundary or time.perf_counter() - clock["t"] >= self._read_every_s

    def _read_interval(self) -> float:
        # Processes of a DDP run must log (and so check the loss) at the same steps: a process that
        # stopped on a non-finite loss alone would leave the others waiting in their next all-reduce.
        s, processes = self.settings, self.accelerator.num_processes
        if s.log_every_s and processes > 1:
            raise TrainingError(f"log_every_s throttles by time, which differs between the {processes} processes; "
                                "use log_every (steps) under accelerate launch")  # fmt: skip
        if s.log_every_s is not None or processes > 1:
            return s.log_every_s or 0.0
        return _READ_EVERY_S.get(self.accelerator.device.type, 0.0)

    def _log(self, clock: dict[str, Any], start: float) -> StepEvent:
        now = time.perf_counter()
        loss = float(clock["loss"]) / max(clock["n"], 1)  # the one host sync per logged step
        cuda = self.accelerator.device.type == "cuda"
        event = StepEvent(
            step=self.step,
            loss=loss,
            lr=float(self.scheduler.get_last_lr()[0]),
            tokens_per_s=clock["tokens"] * self.accelerator.num_processes / max(now - clock["t"], 1e-9),
            elapsed_s=self._elapsed_before + now - start,
            memory_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
            total_steps=self.settings.steps,
            cpu_wait=clock["waited"].read(),
            threads=clock["governor"].reduced(),
        )
        clock.update(t=now, tokens=0, n=0, loss=torch.zeros((), device=self.accelerator.device))
        return event

    def _evaluate_and_emit(self, start: float, stop: Callable[[], bool], callbacks: list[Callback]) -> None:
        """Evaluate now and emit the result, unless a stop request arrived during it (Stop must not wait)."""
        result = self._evaluate(stop)
        if result is not None:
            self.last_eval = result
            elapsed = self._elapsed_before + time.perf_counter() - start
            self._emit(EvalEvent(self.step, result.loss, result.metrics, result.samples, elapsed), callbacks)

    def _emit(self, event: Event, callbacks: list[Callback]) -> None:
        self.history.record(event)
        if self.accelerator.is_main_process:
            for callback in callbacks:
                callback(event)


@contextmanager
def _out_of_memory_ends(trainer: Trainer, said: list[str]) -> Iterator[None]:
    """End the loop on a device OOM as on any other ending: ``said`` gets the one-line reason and the fit
    returns with an ``out-of-memory`` end. The step that ran out is dropped (its partial gradients are
    cleared); the prefix keeps the last completed step, and the model stays usable for a smaller retry."""
    try:
        yield
    except torch.OutOfMemoryError:
        trainer.optimizer.zero_grad(set_to_none=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        said.append(f"out of memory at step {trainer.step + 1} with batch size {trainer.settings.batch_size}; try "
                    "a smaller --batch-size (with --grad-accum to keep the effective batch) or a smaller "
                    "--max-length")  # fmt: skip


# accelerate keeps one process-wide state (a Borg) whose precision cannot change once set. The workbench
# marks a state it set up itself with this key, and starts such a state afresh when a notebook switches
# precision between runs; a state the user's own Accelerator set up is never reset (a one-line error instead).
_OURS = "_prefix_workbench_state"


def _accelerator(settings: TrainSettings) -> Accelerator:
    precision = pick_precision(settings)
    state = AcceleratorState._shared_state
    if state and state.get("_mixed_precision") not in (None, precision) and state.get("num_processes", 1) == 1:
        if not state.get(_OURS):
            raise TrainingError(f"this process already runs accelerate with mixed precision "
                                f"{state.get('_mixed_precision')!r} (an Accelerator of your own), which cannot change; "
                                f"train with the same --precision or in a fresh kernel")  # fmt: skip
        AcceleratorState._reset_state()
    fresh = not AcceleratorState._shared_state
    accelerator = Accelerator(
        cpu=settings.device == "cpu",
        mixed_precision=precision,
        gradient_accumulation_steps=settings.grad_accum,
        step_scheduler_with_optimizer=False,
    )
    if fresh:
        AcceleratorState._shared_state[_OURS] = True
    if precision != "no" and not accelerator.native_amp:
        # accelerate would quietly train in fp32 (fp16 autocast needs CUDA): say so instead.
        device = accelerator.device.type
        other = "bf16 or fp32" if precision == "fp16" else "fp32"
        raise TrainingError(f"--precision {settings.precision} cannot run on this {device} (no {precision} autocast "
                            f"here); use --precision {other}, or train on a GPU")  # fmt: skip
    return accelerator


def _param_groups(model: Any, settings: TrainSettings) -> list[dict[str, Any]]:
    """What adapts the base (a prefix, or LoRA's or full fine-tuning's weights) at ``lr``; a head at ``head_lr``
    when one is set (one group otherwise, as checkpoints made before head_lr hold)."""
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    head = [p for name, p in trainable if is_head_parameter(name)]
    if settings.head_lr is None or not head:
        return [{"params": [p for _, p in trainable]}]
    rest = [p for name, p in trainable if not is_head_parameter(name)]
    return [{"params": rest}, {"params": head, "lr": settings.head_lr}]
