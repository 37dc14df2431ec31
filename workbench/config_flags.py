"""A :class:`~workbench.config.RunConfig` as ``prefix-workbench`` flags, both ways.

The flags are generated from the settings themselves: a field that names a ``flag`` in its
metadata (:mod:`workbench.config`) gets one, typed by its annotation, with its help, choices
and range; a yes/no setting gets ``--name`` / ``--no-name``. Four flags read one value into
two settings or several values into one and are written here: ``--dataset`` (repeatable, a
mixture), ``--column ROLE=COLUMN``, ``--init text:"words"`` and ``--report-to a,b``.
:func:`add_config_arguments` adds them all (``train``, ``sweep`` and ``compare`` share them);
:func:`config_from_args` reads them over ``--config`` and validates; :func:`cli_args` writes
the flags that recreate a config (the panel's "copy as code" line) and names the settings no
flag carries. The two are inverses (tested). It is not the CLI: it parses nothing itself and
runs nothing, so the panel can use it without the CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import Field, fields
from typing import Any

from .config import DEFAULT_DATASET, INIT_CHOICES, RunConfig, parse_columns
from .errors import ConfigError

__all__ = ["FLAGS", "add_config_arguments", "cli_args", "config_from_args"]

_SECTIONS = ("model", "data", "prefix", "train")
# JSON-like annotations (the config module postpones them as strings) to argparse types.
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _flagged() -> Iterator[tuple[str, Field]]:
    defaults = RunConfig()
    for section in _SECTIONS:
        for f in fields(getattr(defaults, section)):
            if "flag" in f.metadata:
                yield section, f


# Every setting one flag sets from one value: (section, field) -> flag. Read and written alike.
FLAGS: dict[tuple[str, str], str] = {(section, f.name): f.metadata["flag"] for section, f in _flagged()}
# Settings that a flag of its own kind (below) carries.
_SPECIAL = {("data", "name"), ("data", "mix"), ("data", "columns"), ("prefix", "init"), ("prefix", "init_text"),
            ("train", "report_to")}  # fmt: skip


def _type(f: Field) -> type:
    annotation = str(f.type).split("|")[0].strip()
    return _TYPES[annotation]


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) >= 1 else f"{x:g}"


def _help(f: Field) -> str:
    """The field's help, its default (when it has one to show) and its allowed range."""
    parts = [f.metadata["help"]]
    if f.default is not None and not isinstance(f.default, bool):
        parts.append(f"default {_text(f.default)}")
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        parts.append(f"{'(' if f.metadata['open_lo'] else '['}{_number(lo)}, {_number(hi)}]")
    return "; ".join(parts).replace("%", "%%")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags :func:`config_from_args` reads, in the settings' order: one per setting of a run."""
    parser.add_argument("--config", help="start from the settings in a run.json or config JSON file")
    defaults = RunConfig()
    own_kind = {
        ("data", "name"): lambda: parser.add_argument(
            "--dataset", action="append",
            help=f"built-in name, hub id, data file (.csv .tsv .json .jsonl .parquet .arrow, also compressed) or "
                 f"save_to_disk folder (default {DEFAULT_DATASET}); repeat it to train one prefix on several tasks"),
        ("data", "columns"): lambda: parser.add_argument(
            "--column", action="append", default=[], metavar="ROLE=COLUMN",
            help="map a dataset column to a role (source, target, text, label, tokens, tags)"),
        ("prefix", "init"): lambda: parser.add_argument(
            "--init", help=f"{', '.join(INIT_CHOICES[:-1])}, or text:\"words\" (the base model's keys/values of the "
                           f"words); default {defaults.prefix.init}"),
        ("train", "report_to"): lambda: parser.add_argument(
            "--report-to", metavar="TRACKERS",
            help="also log the run to tensorboard, mlflow or both (comma-separated)"),
    }  # fmt: skip
    for section in _SECTIONS:
        for f in fields(getattr(defaults, section)):
            if (section, f.name) in own_kind:
                own_kind[section, f.name]()
            elif "flag" in f.metadata and _type(f) is bool:
                parser.add_argument(f.metadata["flag"], action=argparse.BooleanOptionalAction, default=None,
                                    help=_help(f))  # fmt: skip
            elif "flag" in f.metadata:
                parser.add_argument(f.metadata["flag"], type=_type(f), choices=f.metadata.get("choices"),
                                    metavar=f.metadata.get("metavar"), help=_help(f))  # fmt: skip


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def cli_args(config: RunConfig) -> tuple[list[str], list[str]]:
    """``prefix-workbench train`` flags that recreate ``config``, and the settings no flag can carry (they need
    ``--config``). The inverse of :func:`config_from_args` (tested)."""
    default, c = RunConfig(), config
    args = [a for name in [c.data.name, *c.data.mix] for a in ("--dataset", name)]
    args += [f"--column={role}={column}" for role, column in c.data.columns.items()]
    for (section, name), flag in FLAGS.items():
        value = getattr(getattr(c, section), name)
        if value == getattr(getattr(default, section), name) or value is None:
            continue
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        else:
            args += [flag, _text(value)]
    if c.prefix.init != default.prefix.init:
        args += ["--init", f"text:{c.prefix.init_text}" if c.prefix.init == "text" else c.prefix.init]
    if c.train.report_to:
        args += ["--report-to", ",".join(c.train.report_to)]
    unflagged = [f"{section}.{f.name}" for section in _SECTIONS for f in fields(getattr(c, section))
                 if (section, f.name) not in FLAGS and (section, f.name) not in _SPECIAL
                 and getattr(getattr(c, section), f.name) != getattr(getattr(default, section), f.name)]  # fmt: skip
    return args, unflagged


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Settings from ``--config`` (if any) overridden by the flags given, validated; the trackers they report to
    must be installed."""
    cfg = RunConfig.load(args.config) if args.config else RunConfig()  # a settings file or a run's run.json
    given = {
        **{field: getattr(args, _dest(flag)) for field, flag in FLAGS.items()},
        ("data", "name"): args.dataset[0] if args.dataset else None,
        ("data", "mix"): args.dataset[1:] if args.dataset else None,
        ("train", "report_to"): [n for n in args.report_to.split(",") if n.strip()] if args.report_to else None,
    }
    for (section, name), value in given.items():
        if value is not None:
            setattr(getattr(cfg, section), name, value)
    cfg.data.columns.update(parse_columns(args.column))
    if args.init is not None:
        kind, _, text = args.init.partition(":")
        if kind not in INIT_CHOICES or (kind != "text" and text):
            raise ConfigError(f'--init is {args.init!r}; use {", ".join(INIT_CHOICES[:-1])} or text:"some words"')
        cfg.prefix.init, cfg.prefix.init_text = kind, text.strip().strip("'\"") if kind == "text" else ""
    cfg.validate()
    if cfg.train.report_to:
        from .tracking import check_trackers

        check_trackers(cfg.train.report_to)  # installed? one line now, not after the training
    return cfg
