"""``run.json`` as a typed record: what a run directory says about its run, written and read one way.

:class:`RunRecord` holds the settings (a :class:`~workbench.config.RunConfig`), the objective and data
facts a trained prefix depends on, the base model and which weights it was, the final and test
metrics, parameter counts, the whole :class:`~workbench.history.History`, findings and library
versions. :meth:`RunRecord.to_dict` is the JSON object the file holds (NaN as text, through
:mod:`.jsonio` when written); :meth:`RunRecord.from_dict` is the only reader and does every check
once — this workbench's format, the keys a reader needs and their types, settings that load — so a
broken or foreign file is one :class:`~workbench.errors.ExportError` line. It reads and writes no
file (:mod:`.rundir` does) and knows nothing of a live run (:mod:`.run_info` builds one from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .config import RunConfig
from .errors import ConfigError, ExportError, one_line
from .history import History
from .jsonio import from_json

__all__ = ["RUN_FILE", "RUN_FORMAT", "RunRecord"]

RUN_FILE = "run.json"
RUN_FORMAT = "prefix-workbench-run/1"
# What reading a run needs from run.json, and its JSON type; every other key may be missing (older files).
_REQUIRED: dict[str, type] = {"config": dict, "dataset_kind": str, "objective": str, "history": dict}
# Keys older files used for a field: run.json said "task" for the objective until 2026-12-03.
_FORMER_KEYS = {"task": "objective"}


@dataclass
class RunRecord:
    """Everything ``run.json`` says about a run (``RunRecord.from_dict(r.to_dict(), where) == r``)."""

    config: RunConfig
    objective: str  # the objective's name (workbench.models.objectives)
    dataset_kind: str
    history: History
    label_names: list[str] | None = None
    target_stats: list[float] | None = None  # a regression head's (mean, std) of the training targets
    # Its targets are one line each, so generation ends at a newline (the model card says so).
    one_line_targets: bool = False
    # Where the rows came from (a file, a hub id, an object held in memory): a type, counts, a fingerprint.
    data_source: dict[str, Any] = field(default_factory=dict)
    # Chat data: the template its conversations were written with ("own": the base's, "plain": the workbench's
    # role-per-line one, which the exported tokenizer carries), and the first training conversation rendered.
    chat_template: dict[str, Any] | None = None
    base_model: str = ""  # as the user named it: a hub id or built-in travels, a path does not
    base_model_path: str | None = None  # where it was loaded from on the machine that trained it
    base_fingerprint: str | None = None
    # Which weights those were when a GGUF file's (a packaged model's fetched copy): its name, sha256 and
    # quantization, the weights dequantized; None for a base loaded as it is published.
    base_weights: dict[str, Any] | None = None
    headline_metric: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # the last validation's, with its step and loss
    test: dict[str, Any] | None = None  # the test split's loss, metrics, rows and per-label report
    # The run's last word with its per-label (per-type) report: the test split's, else the last validation's.
    final_report: dict[str, Any] | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, int] = field(default_factory=dict)  # trainable, stored, base
    steps_done: int = 0
    findings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``run.json`` holds (floats may be NaN: write it with :func:`workbench.jsonio.dumps`)."""
        out: dict[str, Any] = {"format": RUN_FORMAT}
        for f in fields(self):
            out[f.name] = getattr(self, f.name)
        out["config"], out["history"] = self.config.to_dict(), self.history.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RunRecord:
        """The record in ``data`` (run.json's object) of the run directory ``where``, checked; one ExportError
        line saying what is wrong and what to do otherwise. Keys it does not know are ignored."""
        if isinstance(data, dict):
            data = {_FORMER_KEYS.get(key, key): value for key, value in data.items()}
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ExportError(f"{RUN_FILE} in {where!r} has format {found!r}; this workbench reads {RUN_FORMAT!r} "
                              "(written by another version, or not by the workbench)")  # fmt: skip
        missing = [key for key, kind in _REQUIRED.items() if not isinstance(data.get(key), kind)]
        if missing:
            raise ExportError(f"{RUN_FILE} in {where!r} lacks {', '.join(missing)} (edited or cut short?); "
                              "export the run again")  # fmt: skip
        try:
            config = RunConfig.from_dict(_as_trained(data["config"])).validate()
        except (ConfigError, TypeError) as exc:
            raise ExportError(f"the settings in {RUN_FILE} of {where!r} do not load: {one_line(exc)}") from None
        try:
            history = History.from_dict(data["history"])
        except (TypeError, KeyError) as exc:
            raise ExportError(f"the history in {RUN_FILE} of {where!r} does not load: {one_line(exc)}") from None
        known = {f.name for f in fields(cls)} - {"config", "history"}
        values = {key: data[key] for key in known if data.get(key) is not None}
        if isinstance(values.get("metrics"), dict):  # numbers only: a NaN was written as "nan"
            values["metrics"] = from_json(values["metrics"])
        return cls(config=config, history=history, **values)

    def data_info(self) -> dict[str, Any]:
        """What the trained prefix or head depends on from its data, as :func:`workbench.run_info.data_info_of`
        gives it for a live dataset."""
        return {"kind": self.dataset_kind, "label_names": self.label_names, "metric": self.headline_metric or None,
                "target_stats": self.target_stats, "one_line": self.one_line_targets, "source": self.data_source,
                "chat_template": self.chat_template}  # fmt: skip


def _as_trained(config: dict[str, Any]) -> dict[str, Any]:
    """Settings written before a setting existed, with the value that run trained under where today's default
    would read it otherwise: tagged words were written as one tag per word until 2026-12-03 (data.tag_text)."""
    data = config.get("data")
    if isinstance(data, dict) and "tag_text" not in data:
        return {**config, "data": {**data, "tag_text": "tags"}}
    return config
