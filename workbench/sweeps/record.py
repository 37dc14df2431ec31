"""``sweep.json``: what a sweep folder says about its sweep, as one typed record written and read in one place.

The study rewrites the record after every trial (strict JSON, whole or not at all, so the panel or
a browser can read it at any moment); resuming a sweep, its figures and the panel's trial table
read it back through :func:`read_sweep`, which checks the format, turns ``"nan"`` strings back
into numbers (:mod:`workbench.jsonio`) and gives each trial's run directory as a path under the
folder. It does not run trials, talk to Optuna or draw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, one_line
from ..jsonio import dumps, from_json, read_object
from ..rundir import write_text

__all__ = ["SWEEP_FILE", "SWEEP_FORMAT", "SweepRecord", "TrialSummary", "read_sweep", "write_sweep"]

SWEEP_FILE = "sweep.json"
SWEEP_FORMAT = "prefix-workbench-sweep/1"


@dataclass
class TrialSummary:
    """One trial: its Optuna state (complete, pruned, fail, running), settings, value and run directory."""

    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    train_s: float  # time spent in Run.train
    path: str | None  # the trial's run directory (in the file: its name inside the sweep folder)
    duration_s: float | None = None  # the whole trial: create, train, export
    note: str = ""  # why it failed or was pruned

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SweepRecord:
    """A sweep as its folder records it: the space, the metric and its direction, the trials, the best one."""

    space: list[str]
    metric: str
    direction: str  # "maximize" or "minimize"
    trials_wanted: int
    trials: list[TrialSummary] = field(default_factory=list)
    best: int | None = None  # the best trial's number; None before one completes
    config: dict[str, Any] = field(default_factory=dict)  # the settings every trial starts from
    updated: str = ""
    storage: str = "study.db"
    study: str = "prefix-workbench"

    def completed(self) -> int:
        return sum(t.state == "complete" for t in self.trials)


def write_sweep(out: Path, record: SweepRecord) -> None:
    """``out/sweep.json``, written whole; trial directories are stored by name, relative to ``out``."""
    info = {"format": SWEEP_FORMAT, **asdict(record)}
    info["trials"] = [{**t.to_dict(), "path": Path(t.path).name if t.path else None} for t in record.trials]
    write_text(out / SWEEP_FILE, dumps(info, indent=2))


def read_sweep(out: str | Path) -> SweepRecord | None:
    """The record in sweep folder ``out``, or None where none was written yet (killed before its first
    trial ended); a one-line :class:`ConfigError` for a file that is not a sweep record."""
    path = Path(out).expanduser() / SWEEP_FILE
    if not path.is_file():
        return None
    info = read_object(path, ConfigError, repr(str(path)))
    if info.get("format") != SWEEP_FORMAT:
        raise ConfigError(f"{str(path)!r} is not a sweep record of this workbench ({SWEEP_FORMAT})")
    try:
        trials = [TrialSummary(**{**t, "value": from_json(t.get("value")),
                                  "path": str(path.parent / t["path"]) if t.get("path") else None})
                  for t in info.pop("trials")]  # fmt: skip
        info.pop("format")
        return SweepRecord(**info, trials=trials)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{str(path)!r} lacks or misnames a field ({one_line(exc)}); run the sweep again") from None
