"""A sweep's search space, written as text: ``lr=1e-4:1e-1:log``, ``prefix_length=1,5,10``, ``init=random,text``.

:func:`parse_space` reads such specs into a :class:`SearchSpace` of :class:`Param`, each a
float or integer range (linear or log) or a list of choices, bound to one :class:`RunConfig`
setting through :data:`ALIASES` or a dotted path (``train.lr``). Every spec is checked when it
is parsed — its form, the setting it names, its range, and each end or choice against the
setting's own allowed range — so a mistake is one :class:`ConfigError` line before anything
runs. This module neither imports Optuna nor trains: :meth:`Param.suggest` asks whatever
trial object it is given, and :meth:`SearchSpace.apply` only writes values into a config.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..config import RunConfig, validate_section
from ..errors import ConfigError

__all__ = ["ALIASES", "Param", "SearchSpace", "parse_space"]

# Short names for the settings a prefix-tuning sweep usually varies; any other setting takes its dotted path.
ALIASES: dict[str, str] = {
    "lr": "train.lr",
    "learning_rate": "train.lr",
    "prefix_length": "prefix.length",
    "length": "prefix.length",
    "init": "prefix.init",
    "projection": "prefix.projection",
    "hidden_size": "prefix.hidden_size",
    "batch_size": "train.batch_size",
    "grad_accum": "train.grad_accum",
    "steps": "train.steps",
    "warmup_steps": "train.warmup_steps",
    "weight_decay": "train.weight_decay",
    "max_grad_norm": "train.max_grad_norm",
    "schedule": "train.schedule",
    "max_length": "data.max_length",
}

_SECTIONS = ("model", "data", "prefix", "train")
# All trials share one loaded base model and one dataset (and so one headline metric to rank them by), and
# are ranked on the same validation rows (which the split fractions, the row cap and the seed choose).
_FIXED = (
    "model.",
    "data.name",
    "data.subset",
    "data.kind",
    "data.metric",
    "data.mix",
    "data.validation_fraction",
    "data.test_fraction",
    "data.max_eval_examples",
    "data.columns",
    "train.seed",
)
_FORM = "NAME=LOW:HIGH[:log] or NAME=A,B,..."
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    """One searched setting: a ``float`` or ``int`` range (``log`` scale or linear) or ``categorical`` choices."""

    name: str  # as written (dashes read as underscores); Optuna's parameter name
    path: str  # the RunConfig setting, "section.field"
    spec: str  # the text it was parsed from
    kind: Literal["float", "int", "categorical"]
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """This parameter's value for ``trial`` (an ``optuna.Trial``)."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_categorical(self.name, self.choices)

    @property
    def candidates(self) -> tuple[Any, ...]:
        """The values that bound what it can take: a range's ends, or every choice."""
        return self.choices if self.kind == "categorical" else (self.low, self.high)

    @property
    def varies(self) -> bool:
        return self.kind != "categorical" or len(self.choices) > 1


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of a sweep, in the order they were given."""

    params: tuple[Param, ...]

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    @property
    def specs(self) -> list[str]:
        return [p.spec for p in self.params]

    def apply(self, config: RunConfig, values: dict[str, Any]) -> RunConfig:
        """A validated copy of ``config`` with ``values`` (parameter name -> value) set."""
        out = copy.deepcopy(config)
        for p in self.params:
            if p.name in values:
                section, field = p.path.split(".")
                setattr(getattr(out, section), field, values[p.name])
        return out.validate()

    def check(self, config: RunConfig) -> None:
        """Refuse, in one line, a range end or choice that ``config``'s full validation refuses.

        Each candidate is tried with the other settings as ``config`` has them, so rules that tie two
        settings together (``init=text`` needs ``init_text``; warmup below steps) are caught here too.
        """
        for p in self.params:
            for value in p.candidates:
                try:
                    self.apply(config, {p.name: value})
                except ConfigError as exc:
                    raise ConfigError(f"space spec {p.spec!r} does not fit these settings: {exc}") from None


def parse_space(specs: Sequence[str] | str) -> SearchSpace:
    """Read specs such as ``["lr=1e-4:1e-1:log", "prefix_length=2,8"]`` (or one spec per line of a string).

    ``LOW:HIGH`` is a range (whole numbers for integer settings), ``:log`` samples it on a log scale;
    ``A,B,...`` lists choices, read as the setting's type (ints stay ints, ``true``/``false`` for switches).
    """
    if isinstance(specs, str):
        specs = specs.splitlines()
    params: list[Param] = []
    for spec in (s.strip() for s in specs):
        if not spec:
            continue
        param = _parse_one(spec)
        if any(p.path == param.path for p in params):
            raise ConfigError(f"space spec {spec!r} sets {param.path} a second time; give each setting once")
        params.append(param)
    if not params:
        raise ConfigError(f"the search space is empty; give at least one spec such as lr=1e-4:1e-1:log ({_FORM})")
    return SearchSpace(tuple(params))


def _parse_one(spec: str) -> Param:
    name, sep, text = spec.partition("=")
    name, text = name.strip().replace("-", "_"), text.strip()
    if not sep or not name or not text:
        raise ConfigError(f"space spec {spec!r} is not {_FORM}; write e.g. lr=1e-4:1e-1:log or prefix_length=2,8")
    path = _setting(name, spec)
    if path.startswith(_FIXED):
        raise ConfigError(f"space spec {spec!r}: a sweep trains every trial on one base model and ranks them on the "
                          f"same validation rows, so {path} cannot vary; run one sweep per choice")  # fmt: skip
    section, field = path.split(".")
    kind = _field_type(section, field)
    if kind is None:
        raise ConfigError(f"space spec {spec!r}: {path} is not a number, switch or choice and cannot be searched")
    if ":" in text and "," not in text:
        param = _parse_range(spec, name, path, kind, text)
    else:
        param = _parse_choices(spec, name, path, kind, text)
    for value in param.candidates:
        _check_value(spec, section, field, value)
    return param


def _setting(name: str, spec: str) -> str:
    if name in ALIASES:
        return ALIASES[name]
    section, _, field = name.partition(".")
    if section in _SECTIONS and field in {f.name for f in dataclasses.fields(_section_type(section))}:
        return name
    known = ", ".join(sorted(ALIASES))
    raise ConfigError(f"space spec {spec!r}: unknown parameter {name!r}; use one of {known} or a dotted setting "
                      "such as train.lr")  # fmt: skip


def _section_type(section: str) -> type:
    return {f.name: f for f in dataclasses.fields(RunConfig)}[section].default_factory  # type: ignore[return-value]


def _field_type(section: str, field: str) -> str | None:
    """``int``, ``float``, ``bool`` or ``str`` (the annotation without ``| None``); None for dicts and lists."""
    annotation = next(f.type for f in dataclasses.fields(_section_type(section)) if f.name == field)
    base = str(annotation).replace(" | None", "")
    return base if base in ("int", "float", "bool", "str") else None


def _parse_range(spec: str, name: str, path: str, kind: str, text: str) -> Param:
    parts = [p.strip() for p in text.split(":")]
    log = len(parts) == 3 and parts[2].lower() == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise ConfigError(f"space spec {spec!r} is not {_FORM}; write e.g. {name}={parts[0]}:{parts[1]}:log")
    if kind not in ("int", "float"):
        raise ConfigError(f"space spec {spec!r}: {path} takes choices, not a range; list them, e.g. {name}=A,B")
    low, high = (_number(spec, name, kind, p) for p in parts[:2])
    if low >= high:
        fix = f"{name}={high}:{low}" if low > high else f"{name}={low} for a fixed value"
        raise ConfigError(f"space spec {spec!r} is an empty range ({parts[0]} is not below {parts[1]}); write {fix}")
    if log and low <= 0:
        raise ConfigError(f"space spec {spec!r}: a log range needs a low end above 0; write e.g. "
                          f"{name}={'1' if kind == 'int' else '1e-5'}:{parts[1]}:log")  # fmt: skip
    return Param(name, path, spec, kind, low, high, log)  # type: ignore[arg-type]


def _parse_choices(spec: str, name: str, path: str, kind: str, text: str) -> Param:
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        fix = ",".join(i for i in items if i)
        raise ConfigError(f"space spec {spec!r} has an empty choice; write e.g. {name}={fix}")
    choices = tuple(_choice(spec, name, kind, item) for item in items)
    if len(set(choices)) < len(choices):
        raise ConfigError(f"space spec {spec!r} lists a value twice; give each choice once")
    return Param(name, path, spec, "categorical", choices=choices)


def _number(spec: str, name: str, kind: str, text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"space spec {spec!r}: {text!r} is not a number; write e.g. {name}=1e-4:1e-1") from None
    if not math.isfinite(value):
        raise ConfigError(f"space spec {spec!r}: {text!r} is not a finite number; give finite values")
    if kind == "int":
        if not value.is_integer():
            raise ConfigError(f"space spec {spec!r}: {name} takes whole numbers, not {text!r}; write e.g. {name}=2,8")
        return int(value)
    return value


def _choice(spec: str, name: str, kind: str, text: str) -> Any:
    if text.lower() == "none":
        return None  # an optional setting's default (warmup_steps=none,5)
    if kind == "bool":
        if text.lower() not in _TRUE + _FALSE:
            raise ConfigError(f"space spec {spec!r}: {name} is a switch; write {name}=true,false")
        return text.lower() in _TRUE
    return text if kind == "str" else _number(spec, name, kind, text)


def _check_value(spec: str, section: str, field: str, value: Any) -> None:
    """The setting's own range and choices, on a default section (the full config is checked by the sweep)."""
    if value is None and getattr(_section_type(section)(), field) is not None:
        raise ConfigError(f"space spec {spec!r}: {section}.{field} cannot be none; give values")
    try:
        validate_section(dataclasses.replace(_section_type(section)(), **{field: value}))
    except ConfigError as exc:
        raise ConfigError(f"space spec {spec!r}: {exc}") from None
