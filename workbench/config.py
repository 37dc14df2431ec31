"""Typed settings of a run: what model, what data, what prefix, how to train.

Four small dataclasses (:class:`ModelChoice`, :class:`DataChoice`,
:class:`PrefixSettings`, :class:`TrainSettings`) grouped in a :class:`RunConfig`.
Each field describes itself in its metadata — allowed range or choices, and the CLI flag
with its help — so validation, the CLI's flags (:mod:`.config_flags`) and the panel's widgets
all read one description. Configs round-trip through plain JSON.
This module only describes settings; it loads nothing and trains nothing.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError, one_line
from .jsonio import read_object
from .metrics import METRICS

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_MODEL",
    "DataChoice",
    "ModelChoice",
    "PrefixSettings",
    "RunConfig",
    "TrainSettings",
    "field_choices",
    "field_range",
    "parse_columns",
    "short_name",
    "validate_section",
]

DEFAULT_MODEL = "tiny-demo"
DEFAULT_DATASET = "toy-e2e"

INIT_CHOICES = ("auto", "random", "zero", "matched", "example", "text")
SCHEDULES = ("linear", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")
DATA_KIND_CHOICES = ("auto", "text", "classification", "regression", "tagging", "chat", "lm")
SAMPLING = ("proportional", "balanced")
LABEL_CHOICES = ("ranking", "generation")
TAG_TEXTS = ("auto", "entities", "tags")
# Every metric a run can lead with (metrics.py imports nothing heavy).
METRIC_CHOICES = tuple(METRICS)


def _setting(default: Any, *, flag: str | None = None, help: str = "", **checks: Any) -> Any:
    """A dataclass field that describes itself: the ``prefix-workbench`` flag that sets it (None: it travels
    with ``--config``) and that flag's help, beside the checks validation runs (``range``, ``choices``).
    The CLI's flags, "copy as code" and the panel's widgets are all made from this (:mod:`.config_flags`)."""
    described = {"flag": flag, "help": help} if flag else {}
    return field(default=default, metadata={**checks, **described})


def _ranged(default: Any, lo: float, hi: float, *, open_lo: bool = False, **described: Any) -> Any:
    """A field whose value must lie in [lo, hi] (or (lo, hi] when open_lo)."""
    return _setting(default, range=(lo, hi), open_lo=open_lo, **described)


def _choice(default: str | None, choices: tuple[str, ...], **described: Any) -> Any:
    """A field that takes one of ``choices`` (or None, when that is its default)."""
    return _setting(default, choices=choices, **described)


@dataclass
class ModelChoice:
    """Which base model to prefix-tune: a built-in name, a hub id or a local directory."""

    name: str = _setting(DEFAULT_MODEL, flag="--model", help="built-in name, hub id or local path")
    revision: str | None = None
    trust_remote_code: bool = _setting(False, flag="--trust-remote-code", help="run code shipped with a hub model")


@dataclass
class DataChoice:
    """Which dataset to train on and how to read it.

    ``columns`` maps the workbench's roles to the dataset's column names, e.g.
    ``{"source": "meaning_representation", "target": "human_reference"}`` for a
    text task, ``{"text": "sentence", "label": "label"}`` for classification or
    ``{"tokens": "tokens", "tags": "ner_tags"}`` for tagging. ``kind`` says what the data
    is when its columns leave it open (``"regression"`` for whole-number targets such as
    star ratings); ``metric`` picks the headline metric (None: the dataset's or kind's
    default); ``test_fraction`` holds out a test split from a file that has none.

    Several tasks, one prefix: ``mix`` names more datasets to train on together with
    ``name`` (each read with its own defaults), or ``columns={"task": "column"}`` splits
    one file by a task column. ``sampling`` draws training rows in proportion to each
    task's size or ``balanced`` (smaller tasks repeated); ``mark_tasks`` starts each
    source with ``"{task} :"`` for tasks whose inputs look alike.
    """

    name: str = DEFAULT_DATASET
    subset: str | None = _setting(None, flag="--subset", help="hub dataset configuration, e.g. sst2 for nyu-mll/glue")
    columns: dict[str, str] = field(default_factory=dict)
    kind: str = _choice(
        "auto",
        DATA_KIND_CHOICES,
        flag="--kind",
        help="what the data is when its columns leave it open (regression for whole-number targets)",
    )
    metric: str | None = _choice(
        None,
        METRIC_CHOICES,
        flag="--metric",
        metavar="METRIC",
        help=f"headline metric (default: the data's): {', '.join(METRIC_CHOICES)}",
    )
    max_train_examples: int | None = _ranged(None, 1, 1_000_000_000, flag="--max-train-examples",
                                             help="train on the first N rows")  # fmt: skip
    # Sources that repeat (a record with several references, as in E2E): train on the first N records, all rows.
    max_train_records: int | None = _ranged(None, 1, 1_000_000_000, flag="--max-train-records",
                                            help="train on the first N records of data whose sources repeat "
                                                 "(E2E: ~8.5 references each)")  # fmt: skip
    max_eval_examples: int = _ranged(200, 1, 1_000_000, flag="--max-eval-examples",
                                     help="validation rows to score (whole records)")  # fmt: skip
    validation_fraction: float = _ranged(0.1, 0.0, 0.5, open_lo=True)
    test_fraction: float = _ranged(0.0, 0.0, 0.5, flag="--test-fraction",
                                   help="hold out this share of a file as a test split")  # fmt: skip
    # A file (or held object) read as the validation split, e.g. a shared task's dev set; None: carved from train.
    validation: str | None = _setting(None, flag="--validation", metavar="FILE",
                                      help="a data file to validate on (a dev set) instead of a share of the "
                                           "training data")  # fmt: skip
    mix: list[str] = field(default_factory=list)
    sampling: str = _choice("proportional", SAMPLING, flag="--sampling",
                            help="several tasks: rows in proportion to size, or balanced")  # fmt: skip
    mark_tasks: bool = _setting(False, flag="--mark-tasks", help='several tasks: start each source with "{task} :"')
    # How a model that writes text learns tagged words: their entities, "Rick and Morty (creative-work)" (auto: where
    # the tags are B-/I-; SmolLM2 + WNUT-17, 200 steps: entity F1 26.6 where one tag per word scores 0), or one tag
    # per word. workbench.data.entity_text.
    tag_text: str = _choice("auto", TAG_TEXTS, flag="--tag-text",
                            help="tagged words as text: their entities (auto: where the tags are B-/I-) or one tag "
                                 "per word")  # fmt: skip
    max_length: int = _ranged(128, 8, 32_768, flag="--max-length", help="tokens per row (longer rows are cut)")
    # Decoders read "{source} {separator}" and continue with the target.
    separator: str = "->"


@dataclass
class PrefixSettings:
    """The prefix: how many virtual tokens, reparametrized or not, and how to start.

    ``init`` is ``"auto"`` (``matched`` where it applies, a decoder's flat prefix;
    ``random`` elsewhere), ``"random"`` (PEFT's N(0, 1)), ``"zero"``, ``"matched"``
    (random at each layer's own key/value scale, measured on a few training rows),
    ``"example"`` (the base model's keys/values of a training row) or ``"text"``
    (those of ``init_text``: Li & Liang's real-word initialisation); see
    :mod:`workbench.prefix_init`.
    """

    length: int = _ranged(10, 1, 2048, flag="--prefix-length", help="virtual tokens at every layer")
    projection: bool = _setting(False, flag="--projection", help="reparametrize the prefix through an MLP while "
                                                                 "training")  # fmt: skip
    hidden_size: int = _ranged(512, 1, 65_536, flag="--hidden-size", help="hidden size of the projection MLP")
    init: str = _choice("auto", INIT_CHOICES)
    init_text: str = ""
    # Li & Liang's prefix dropout (PEFT has none): a share of the prefix's key/value entries zeroed at each
    # training step (workbench.prefix); evaluation, generation and export see the whole prefix.
    dropout: float = _ranged(0.0, 0.0, 0.9, flag="--prefix-dropout",
                             help="share of the prefix's key/value entries dropped at each training step")  # fmt: skip


@dataclass
class TrainSettings:
    """How to train: optimiser, schedule, evaluation cadence, device and precision, trackers to report to."""

    steps: int = _ranged(200, 1, 10_000_000, flag="--steps", help="optimizer steps in all")
    # 1e-1 for the prefix, 3e-2 for a head (README, *Learning curves*): on SmolLM2 + E2E the matched start at 1e-1
    # scored BLEU 65.8 ± 0.8 after 150 steps (3e-2: 62.9 ± 1.4; LoRA r=8 65.7 ± 2.2); on MiniLM a head at 1e-1
    # does not learn (BANKING77 1.7 %) where at 3e-2 it does (76.9 % with the prefix at 1e-1).
    lr: float = _ranged(1e-1, 0.0, 10.0, open_lo=True, flag="--lr", help="peak learning rate of the prefix")
    # The learning rate of a head trained beside the prefix (an encoder's classifier or tagger); None: lr.
    head_lr: float | None = _ranged(3e-2, 0.0, 10.0, open_lo=True, flag="--head-lr",
                                    help="learning rate of an encoder's head")  # fmt: skip
    batch_size: int = _ranged(8, 1, 65_536, flag="--batch-size", help="rows per micro-batch")
    grad_accum: int = _ranged(1, 1, 1024, flag="--grad-accum", help="micro-batches per optimizer step")
    # Batch rows of alike length together (each epoch still shuffled; workbench.data.batching). SmolLM2 + E2E,
    # 150 steps (bench/padding.py): padding 25% -> 4%, 1.33x tokens/s, the same loss curve.
    group_by_length: bool = _setting(True, flag="--group-by-length",
                                     help="batch training rows of alike length together (less padding)")  # fmt: skip
    # None: 10 steps, or a tenth of a run of 10 steps or fewer; an explicit value must be below ``steps``.
    warmup_steps: int | None = _ranged(None, 0, 10_000_000, flag="--warmup-steps",
                                       help="steps of rising learning rate (default 10, or a tenth of a shorter "
                                            "run)")  # fmt: skip
    schedule: str = _choice("linear", SCHEDULES)
    weight_decay: float = _ranged(0.0, 0.0, 1.0)
    max_grad_norm: float = _ranged(1.0, 0.0, 1e6)
    seed: int = _ranged(0, 0, 2**32 - 1, flag="--seed", help="seeds the prefix, the batches and dropout")
    # None: every 50 steps, or half-way and at the end of a run shorter than 100 steps; 0: only at the end.
    eval_every: int | None = _ranged(None, 0, 10_000_000, flag="--eval-every",
                                     help="steps between evaluations (default 50, or half of a shorter run; 0: at "
                                          "the end only)")  # fmt: skip
    log_every: int = _ranged(1, 1, 10_000)
    # Read the loss off the device at most this often (seconds; None: 0.25 on CUDA, every logged step elsewhere).
    log_every_s: float | None = _ranged(None, 0.0, 3600.0)
    eval_generate: int = _ranged(32, 0, 100_000, flag="--eval-generate",
                                 help="rows (records) generated at each evaluation")  # fmt: skip
    # How a decoder or encoder-decoder that learned labels as text picks a class: "ranking" every label's
    # likelihood given the input (every row gets one), or "generation" of text read back (may find none).
    label_choice: str = _choice("ranking", LABEL_CHOICES, flag="--label-choice",
                                help="how a model that writes labels as text picks one: rank every label's "
                                     "likelihood, or generate and read back")  # fmt: skip
    max_new_tokens: int = _ranged(48, 1, 4096, flag="--max-new-tokens", help="generation length at evaluation")
    device: str = _choice("auto", DEVICES, flag="--device", help="where to train (auto: a GPU when there is one)")
    precision: str = _choice("auto", PRECISIONS, flag="--precision",
                             help="auto: bf16 (or fp16) autocast on a GPU, fp32 elsewhere")  # fmt: skip
    checkpoint_every: int = _ranged(0, 0, 10_000_000, flag="--checkpoint-every",
                                    help="rewrite the run directory with resumable state every N steps")  # fmt: skip
    # Also log the run to "tensorboard", "mlflow" or both (workbench.tracking), in tracking_dir (None: runs/tracking);
    # tracking_uri sends MLflow to another store or server.
    report_to: list[str] = field(default_factory=list)
    tracking_dir: str | None = _setting(
        None,
        flag="--tracking-dir",
        help="folder for TensorBoard files and the local MLflow store (default runs/tracking)",
    )
    tracking_uri: str | None = _setting(
        None, flag="--tracking-uri", help="an MLflow tracking URI (a server or database) instead of the folder"
    )

    def warmup(self) -> int:
        """The warmup in steps: the explicit one, or the default fitted to the run's length."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return 10 if self.steps > 10 else self.steps // 10

    def eval_interval(self) -> int:
        """Steps between evaluations: the explicit one (0: only the final one), or the default fitted to the run."""
        if self.eval_every is not None:
            return self.eval_every
        return 50 if self.steps >= 100 else max(1, -(-self.steps // 2))  # half way (rounded up) and the end

    def first_eval(self, after: int = 0) -> int:
        """The step of the first evaluation after step ``after``: the next on the interval, or the run's last step."""
        every = self.eval_interval()
        return min((after // every + 1) * every, self.steps) if every else self.steps

    def evaluates_at(self, step: int) -> bool:
        """Whether a run that gets that far evaluates after ``step`` (on the interval, or at its last step)."""
        return step == self.first_eval(after=step - 1)


@dataclass
class RunConfig:
    """Everything that defines a run; ``RunConfig.from_json(cfg.to_json()) == cfg``."""

    model: ModelChoice = field(default_factory=ModelChoice)
    data: DataChoice = field(default_factory=DataChoice)
    prefix: PrefixSettings = field(default_factory=PrefixSettings)
    train: TrainSettings = field(default_factory=TrainSettings)

    def validate(self) -> RunConfig:
        """Raise :class:`ConfigError` on the first setting out of range; return self."""
        self.data.name, self.data.mix = _data_name(self.data.name), [_data_name(m) for m in self.data.mix]
        if self.data.validation is not None:
            self.data.validation = _data_name(self.data.validation)
        self.model.name = _absolute_if_local(self.model.name, "model")
        for section in (self.model, self.data, self.prefix, self.train):
            validate_section(section)
        if self.prefix.init == "text" and not self.prefix.init_text.strip():
            raise ConfigError("prefix init 'text' needs init_text, e.g. --init text:'describe :'")
        if self.train.warmup_steps is not None and self.train.warmup_steps >= self.train.steps > 1:
            raise ConfigError(
                f"warmup_steps ({self.train.warmup_steps}) must be smaller than steps ({self.train.steps})"
            )
        if self.train.report_to:
            from .tracking import check_trackers  # imports no tracker

            # Names only: settings must load where a tracker is not installed (a shared run.json); starting one checks.
            self.train.report_to = check_trackers(self.train.report_to, installed=False)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        _reject_unknown(cls, data, "run config")
        return cls(
            model=_section_from_dict(ModelChoice, data.get("model", {})),
            data=_section_from_dict(DataChoice, data.get("data", {})),
            prefix=_section_from_dict(PrefixSettings, data.get("prefix", {})),
            train=_section_from_dict(TrainSettings, data.get("train", {})),
        )

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Settings from JSON text: the object :meth:`to_dict` writes, or a run.json that holds it under "config"."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"settings are not valid JSON: {one_line(exc)}") from None
        return cls._from_object(data)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        """Settings from a file :meth:`from_json` reads; a one-line :class:`ConfigError` naming it if it cannot."""
        where = f"config file {str(Path(path).expanduser())!r}"
        data = read_object(Path(path).expanduser(), ConfigError, where)
        try:
            return cls._from_object(data)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @classmethod
    def _from_object(cls, data: Any) -> RunConfig:
        """Settings from a JSON value: the object :meth:`to_dict` writes, or a run.json's, under "config"."""
        if isinstance(data, dict) and isinstance(data.get("config"), dict):
            data = data["config"]
        if not isinstance(data, dict):
            raise ConfigError("settings JSON must be an object with model/data/prefix/train sections")
        return cls.from_dict(data)


def parse_columns(items: Iterable[str], *, where: str = "--column") -> dict[str, str]:
    """``["text=review", "label=stars"]`` as ``{"text": "review", "label": "stars"}`` (blank items skipped)."""
    out = {}
    for item in items:
        if not item.strip():
            continue
        role, sep, column = item.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise ConfigError(f"{where} expects ROLE=COLUMN (e.g. text=review), got {item.strip()!r}")
        out[role.strip()] = column.strip()
    return out


def short_name(name: str) -> str:
    """How a model or dataset reads to a person: a local path by its last part (``/data/smollm2/hf`` -> ``hf``,
    ``../e2e/devset.csv`` -> ``devset.csv``); built-in names and hub ids (``owner/model``) as they are. Programs
    keep the full name (run.json, the adapter)."""
    looks_local = name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or Path(name).expanduser().exists()
    return Path(name.rstrip("/")).name or name if looks_local else name


def field_range(section: type, name: str) -> tuple[float, float] | None:
    """The allowed (lo, hi) of a numeric setting, for sliders and error messages."""
    return _field(section, name).metadata.get("range")


def field_choices(section: type, name: str) -> tuple[str, ...]:
    """The values a choice setting takes, for dropdowns and flags."""
    return _field(section, name).metadata["choices"]


def _field(section: type, name: str) -> Any:
    for f in fields(section):
        if f.name == name:
            return f
    raise KeyError(f"{section.__name__} has no field {name!r}")


_S = TypeVar("_S")


def _reject_unknown(cls: type, data: dict[str, Any], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def _section_from_dict(cls: type[_S], data: dict[str, Any]) -> _S:
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} settings must be a JSON object, got {type(data).__name__}")
    _reject_unknown(cls, data, cls.__name__)
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        expected = f.default if f.default is not MISSING else None
        # JSON has one number type: give ints back to int fields, floats to float fields.
        if isinstance(expected, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _data_name(data: Any) -> str:
    """A dataset's name (a local file by its absolute path); an object (a DataFrame, a Dataset, a list of dicts) is
    held in memory under one."""
    if isinstance(data, str | os.PathLike):
        return _absolute_if_local(os.fspath(data), "data")
    from .data.held import hold  # imports neither pandas nor datasets

    return hold(data)


def _absolute_if_local(name: str, what: str) -> str:
    """An existing local file or folder by its absolute path, so that a run names it from any working folder
    (``./my-model`` or ``train.csv`` say nothing from the run directory); a built-in's name, a hub id or a path
    that is not there (said where it loads) as given."""
    if what == "model":
        from .models.registry import BUILTIN_MODELS, PACKAGED_MODELS

        registered: Iterable[str] = (*BUILTIN_MODELS, *PACKAGED_MODELS)
    else:
        from .data.catalog import BUILTIN_DATASETS

        registered = BUILTIN_DATASETS
    path = Path(name).expanduser()
    return str(path.resolve()) if name and name not in registered and path.exists() else name


def validate_section(section: Any) -> None:
    """Check one settings section against its fields' choices and ranges (one-line ConfigError)."""
    for f in fields(section):
        value = getattr(section, f.name)
        where = f"{type(section).__name__}.{f.name}"
        optional = value is None and f.default is None
        if "choices" in f.metadata and value not in f.metadata["choices"] and not optional:
            raise ConfigError(f"{where} is {value!r}; choose one of {', '.join(f.metadata['choices'])}")
        if "range" not in f.metadata or value is None:
            continue
        lo, hi = f.metadata["range"]
        is_int = (isinstance(f.default, int) and not isinstance(f.default, bool)) or str(f.type).startswith("int")
        if isinstance(value, bool) or not isinstance(value, int | float) or (is_int and not isinstance(value, int)):
            raise ConfigError(f"{where} must be {'an integer' if is_int else 'a number'}, got {value!r}")
        bad = math.isnan(value) or value > hi or value < lo or (f.metadata["open_lo"] and value <= lo)
        if bad:
            left = "(" if f.metadata["open_lo"] else "["
            raise ConfigError(f"{where} is {value!r}; allowed range is {left}{lo:g}, {hi:g}]")
