"""What a training run emits while it runs and keeps afterwards.

The loop sends three kinds of events to its callbacks — :class:`StepEvent` (loss,
learning rate, tokens/s, time, memory, whether it was starved of CPU), :class:`EvalEvent` (validation loss, task
metrics, samples) and :class:`EndEvent` (why it ended) — and appends them to a
:class:`History`, which round-trips through JSON into ``run.json``. Front ends
(CLI progress bars, notebook charts) consume these; this module runs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import ConfigError
from .jsonio import from_json, to_json
from .metrics import is_better
from .threads import STARVED

__all__ = [
    "ENDINGS",
    "Callback",
    "CurvePoint",
    "EndEvent",
    "Ending",
    "EvalEvent",
    "Event",
    "History",
    "StepEvent",
    "check_total",
]


@dataclass
class StepEvent:
    """One logged optimizer step; ``loss`` is the mean since the previous logged step."""

    step: int
    loss: float
    lr: float
    tokens_per_s: float
    elapsed_s: float
    memory_mb: float | None = None
    total_steps: int = 0
    # The share of the time the process's threads waited for a CPU since the last logged step (summed over
    # threads; workbench.threads.CpuWait); None where the system does not tell.
    cpu_wait: float | None = None
    # Intra-op threads in use when fewer than at the start: another process was busy (workbench.threads).
    threads: int | None = None
    kind: Literal["step"] = "step"

    @property
    def starved(self) -> bool:
        """Whether the threads waited for a CPU much of the time: another process is busy (threads.STARVED)."""
        return self.cpu_wait is not None and self.cpu_wait >= STARVED


@dataclass
class EvalEvent:
    """An evaluation on the validation split at ``step``."""

    step: int
    loss: float
    metrics: dict[str, float]  # numbers only (see EvalResult)
    samples: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    kind: Literal["eval"] = "eval"


@dataclass(frozen=True)
class Ending:
    """What one way of ending means to each front end: the panel's colour, a tracker's run status
    (MLflow's words), the CLI's exit status and a sweep trial's state (Optuna's words; a stopped
    trial was pruned, unless the whole sweep was stopped)."""

    level: Literal["ok", "warning", "error"]
    status: Literal["FINISHED", "KILLED", "FAILED"]
    exit_code: int
    trial: Literal["COMPLETE", "PRUNED", "FAIL"]


# The one table of end reasons; the Literal of EndEvent.reason lists the same keys.
ENDINGS: dict[str, Ending] = {
    "completed": Ending("ok", "FINISHED", 0, "COMPLETE"),
    "stopped": Ending("warning", "KILLED", 130, "PRUNED"),  # flag, Stop, Ctrl-C, SIGTERM: the run is still written
    "non-finite": Ending("error", "FAILED", 3, "FAIL"),  # the prefix of the last finite step is kept and written
    "out-of-memory": Ending("error", "FAILED", 5, "FAIL"),  # the prefix of the last completed step is kept, written
}


@dataclass
class EndEvent:
    """The run ended: ``completed``, ``stopped`` (flag, button, Ctrl-C), ``non-finite`` loss or ``out-of-memory``."""

    step: int
    reason: Literal["completed", "stopped", "non-finite", "out-of-memory"]
    message: str = ""
    elapsed_s: float = 0.0
    kind: Literal["end"] = "end"

    @property
    def ending(self) -> Ending:
        return ENDINGS[self.reason]

    @property
    def summary(self) -> str:
        """One line for people: the loop's own message, or e.g. ``completed at step 50``."""
        return self.message or f"{self.reason} at step {self.step}"


Event = StepEvent | EvalEvent | EndEvent


@dataclass(frozen=True)
class CurvePoint:
    """A learning curve's point: an evaluation after ``step`` steps and ``seconds`` of training (evaluations
    not counted), its validation loss and one metric's value (NaN where that evaluation has none)."""

    step: int
    seconds: float
    loss: float
    value: float


Callback = Callable[[Event], None]


@dataclass
class History:
    """Every event of a run (resumed runs continue the same history)."""

    steps: list[StepEvent] = field(default_factory=list)
    evals: list[EvalEvent] = field(default_factory=list)
    ends: list[EndEvent] = field(default_factory=list)

    def record(self, event: Event) -> None:
        {"step": self.steps, "eval": self.evals, "end": self.ends}[event.kind].append(event)  # type: ignore[attr-defined]

    @property
    def last_step(self) -> int:
        """Steps trained so far. Every end records its step, and steps log between ends; with
        ``log_every`` > 1 an end (out of memory) can come after the last logged step, so both count."""
        return max(self.steps[-1].step if self.steps else 0, self.ends[-1].step if self.ends else 0)

    def losses(self) -> list[float]:
        return [s.loss for s in self.steps]

    def best_eval(self, metric: str) -> EvalEvent | None:
        """The evaluation with the best finite ``metric`` (lowest for lower-is-better metrics such as RMSE)."""
        best = None
        for e in self.evals:
            value = e.metrics.get(metric)
            if (
                value is not None
                and math.isfinite(value)
                and (best is None or is_better(metric, value, best.metrics[metric]))
            ):
                best = e
        return best

    @property
    def headline(self) -> str | None:
        """The run's headline metric: evaluations list it first (None before any evaluation)."""
        return next((name for e in self.evals for name in e.metrics), None)

    def curve(self, metric: str) -> list[CurvePoint]:
        """Every evaluation at its step and its seconds of training. The run's clock runs through its
        evaluations, so the time taken by those at earlier steps is taken off."""
        step_end = {s.step: s.elapsed_s for s in self.steps}
        points, evaluated, before, end = [], 0.0, 0.0, 0.0  # evaluated: eval seconds up to this step's start
        for i, e in enumerate(self.evals):
            trained = step_end[e.step] if e.step in step_end else max(
                (t for k, t in step_end.items() if k <= e.step), default=0.0)  # fmt: skip
            if i and self.evals[i - 1].step < e.step:
                before = evaluated
            points.append(CurvePoint(e.step, trained - before, e.loss, e.metrics.get(metric, math.nan)))
            evaluated += max(0.0, e.elapsed_s - max(trained, end))  # 0: an event without its time (elapsed_s 0)
            end = max(end, e.elapsed_s)
        return points

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [to_json(asdict(s)) for s in self.steps],
            "evals": [to_json(asdict(e)) for e in self.evals],
            "ends": [asdict(e) for e in self.ends],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            steps=[StepEvent(**from_json(s)) for s in data.get("steps", [])],
            evals=[_eval_from_json(e) for e in data.get("evals", [])],
            ends=[EndEvent(**e) for e in data.get("ends", [])],
        )


def _eval_from_json(event: dict[str, Any]) -> EvalEvent:
    values = {k: v if k == "samples" else from_json(v) for k, v in event.items()}  # a sample reading "nan" is text
    # run.json files written before metrics held only numbers kept a tagger's per_type among them
    values["metrics"] = {k: v for k, v in values.get("metrics", {}).items() if not isinstance(v, dict)}
    return EvalEvent(**values)


def check_total(done: int, total: int) -> None:
    """The one rule for training on (trainer, :class:`~workbench.Run`, resume, CLI): a new total must lie
    above the steps done — a run never trains backwards, and a total it has reached trains nothing."""
    if total <= done:
        raise ConfigError(f"the run is at step {done}; a total of {total} steps would train nothing "
                          f"(give a total above {done}: train(steps=N), or --steps N on the command line)")  # fmt: skip
