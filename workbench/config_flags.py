"""A :class:`~workbench.config.RunConfig` as ``prefix-workbench`` flags, both ways.

:func:`add_config_arguments` adds one flag per setting a person tunes (``train``, ``sweep``
and ``compare`` share them); :func:`config_from_args` reads them over ``--config`` and
validates; :func:`cli_args` writes the flags that recreate a config (the panel's "copy as
code" line) and names the settings no flag carries. The two are inverses (tested). It is not
the CLI: it parses nothing itself and runs nothing, so the panel can use it without the CLI.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from .config import (
    DATA_KIND_CHOICES,
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    METRIC_CHOICES,
    SAMPLING,
    RunConfig,
    parse_columns,
)
from .errors import ConfigError

__all__ = ["VALUE_FLAGS", "add_config_arguments", "cli_args", "config_from_args"]


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags :func:`config_from_args` reads: one per setting of a run (``sweep`` takes them too)."""
    parser.add_argument("--config", help="start from the settings in a run.json or config JSON file")
    parser.add_argument("--model", help=f"built-in name, hub id or local path (default {DEFAULT_MODEL})")
    parser.add_argument("--dataset", action="append",
                        help=f"built-in name, hub id, data file (.csv .tsv .json .jsonl .parquet .arrow, also "
                             f"compressed) or save_to_disk folder (default {DEFAULT_DATASET}); "
                             "repeat it to train one prefix on several tasks")  # fmt: skip
    parser.add_argument("--sampling", choices=SAMPLING, help="several tasks: rows in proportion to size, or balanced")
    parser.add_argument("--mark-tasks", action="store_true", default=None,
                        help='several tasks: start each source with "{task} :"')  # fmt: skip
    parser.add_argument("--subset", help="hub dataset configuration, e.g. sst2 for nyu-mll/glue")
    parser.add_argument("--column", action="append", default=[], metavar="ROLE=COLUMN",
                        help="map a dataset column to a role (source, target, text, label, tokens, tags)")  # fmt: skip
    parser.add_argument(
        "--kind",
        choices=DATA_KIND_CHOICES,
        help="what the data is when its columns leave it open (regression for whole-number targets)",
    )
    parser.add_argument("--metric", help=f"headline metric: {', '.join(METRIC_CHOICES)} (default: the data's)")
    parser.add_argument("--test-fraction", type=float, help="hold out this share of a file as a test split")
    parser.add_argument(
        "--validation",
        metavar="FILE",
        help="a data file to validate on (a dev set) instead of a share of the training data",
    )
    parser.add_argument("--max-train-examples", type=int)
    parser.add_argument(
        "--max-train-records",
        type=int,
        help="train on the first N records of data whose sources repeat (E2E: ~8.5 references each)",
    )
    parser.add_argument("--max-eval-examples", type=int, help="validation rows to score (whole records)")
    parser.add_argument("--max-length", type=int)
    parser.add_argument("--prefix-length", type=int)
    parser.add_argument("--projection", action=argparse.BooleanOptionalAction, default=None,
                        help="reparametrize the prefix through an MLP while training")  # fmt: skip
    parser.add_argument("--hidden-size", type=int, help="hidden size of the projection MLP")
    parser.add_argument("--init", help='random, zero, or text:"words" (the base model\'s keys/values of the words)')
    parser.add_argument("--steps", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--head-lr", type=float, help="learning rate of an encoder's head (default: --lr)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--grad-accum", type=int)
    parser.add_argument("--group-by-length", action=argparse.BooleanOptionalAction, default=None,
                        help="batch training rows of alike length together (default; less padding)")  # fmt: skip
    parser.add_argument("--warmup-steps", type=int)
    parser.add_argument(
        "--eval-every",
        type=int,
        help="steps between evaluations (default 50, or half of a shorter run; 0: at the end only)",
    )
    parser.add_argument("--eval-generate", type=int, help="rows (records) generated at each evaluation")
    parser.add_argument("--max-new-tokens", type=int, help="generation length at evaluation")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"])
    parser.add_argument(
        "--checkpoint-every", type=int, help="rewrite the run directory with resumable state every N steps"
    )
    parser.add_argument("--report-to", metavar="TRACKERS",
                        help="also log the run to tensorboard, mlflow or both (comma-separated)")  # fmt: skip
    parser.add_argument("--tracking-dir", help="folder for TensorBoard files and the local MLflow store "
                                              "(default runs/tracking)")  # fmt: skip
    parser.add_argument("--tracking-uri", help="an MLflow tracking URI (a server or database) instead of the folder")
    parser.add_argument("--trust-remote-code", action="store_true", help="run code shipped with a hub model")


# The settings that one flag sets from one value, both ways: config_from_args reads them, cli_args writes them.
VALUE_FLAGS: dict[tuple[str, str], str] = {
    ("data", "sampling"): "--sampling", ("data", "subset"): "--subset", ("data", "kind"): "--kind",
    ("data", "metric"): "--metric", ("data", "test_fraction"): "--test-fraction",
    ("data", "validation"): "--validation",
    ("data", "max_train_examples"): "--max-train-examples", ("data", "max_train_records"): "--max-train-records",
    ("data", "max_eval_examples"): "--max-eval-examples", ("data", "max_length"): "--max-length",
    ("prefix", "length"): "--prefix-length", ("prefix", "hidden_size"): "--hidden-size",
    ("train", "steps"): "--steps", ("train", "lr"): "--lr", ("train", "head_lr"): "--head-lr",
    ("train", "batch_size"): "--batch-size",
    ("train", "grad_accum"): "--grad-accum", ("train", "warmup_steps"): "--warmup-steps",
    ("train", "eval_every"): "--eval-every", ("train", "eval_generate"): "--eval-generate",
    ("train", "max_new_tokens"): "--max-new-tokens", ("train", "seed"): "--seed", ("train", "device"): "--device",
    ("train", "precision"): "--precision", ("train", "checkpoint_every"): "--checkpoint-every",
    ("train", "tracking_dir"): "--tracking-dir", ("train", "tracking_uri"): "--tracking-uri",
}  # fmt: skip
# Set by flags of their own kind (below); every other setting has no flag and travels with --config.
_SPECIAL = {("model", "name"), ("model", "trust_remote_code"), ("data", "name"), ("data", "mix"),
            ("data", "columns"), ("data", "mark_tasks"), ("prefix", "projection"), ("prefix", "init"),
            ("prefix", "init_text"), ("train", "report_to"), ("train", "group_by_length")}  # fmt: skip


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def cli_args(config: RunConfig) -> tuple[list[str], list[str]]:
    """``prefix-workbench train`` flags that recreate ``config``, and the settings no flag can carry (they need
    ``--config``). The inverse of :func:`config_from_args` (tested)."""
    default, c = RunConfig(), config
    args = ["--model", c.model.name, *(a for name in [c.data.name, *c.data.mix] for a in ("--dataset", name))]
    args += [f"--column={role}={column}" for role, column in c.data.columns.items()]
    for (section, name), flag in VALUE_FLAGS.items():
        value = getattr(getattr(c, section), name)
        if value != getattr(getattr(default, section), name) and value is not None:
            args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if c.prefix.init != default.prefix.init:
        args += ["--init", f"text:{c.prefix.init_text}" if c.prefix.init == "text" else c.prefix.init]
    if c.prefix.projection != default.prefix.projection:
        args.append("--projection" if c.prefix.projection else "--no-projection")
    if c.train.group_by_length != default.train.group_by_length:
        args.append("--group-by-length" if c.train.group_by_length else "--no-group-by-length")
    args += ["--mark-tasks"] * c.data.mark_tasks + ["--trust-remote-code"] * c.model.trust_remote_code
    if c.train.report_to:
        args += ["--report-to", ",".join(c.train.report_to)]
    unflagged = [f"{section}.{f.name}" for section in ("model", "data", "prefix", "train")
                 for f in fields(getattr(c, section)) if (section, f.name) not in VALUE_FLAGS
                 and (section, f.name) not in _SPECIAL
                 and getattr(getattr(c, section), f.name) != getattr(getattr(default, section), f.name)]  # fmt: skip
    return args, unflagged


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Settings from ``--config`` (if any) overridden by the flags given, validated; the trackers they report to
    must be installed."""
    if args.config:
        cfg = RunConfig.load(args.config)  # a settings file or a run's run.json
    else:
        cfg = RunConfig()
    flags = {
        ("model", "name"): args.model,
        ("model", "trust_remote_code"): args.trust_remote_code or None,
        ("data", "name"): args.dataset[0] if args.dataset else None,
        ("data", "mix"): args.dataset[1:] if args.dataset else None,
        ("data", "mark_tasks"): args.mark_tasks,
        ("prefix", "projection"): args.projection,
        ("train", "group_by_length"): args.group_by_length,
        ("train", "report_to"): [n for n in args.report_to.split(",") if n.strip()] if args.report_to else None,
        **{field: getattr(args, _dest(flag)) for field, flag in VALUE_FLAGS.items()},
    }
    for (section, name), value in flags.items():
        if value is not None:
            setattr(getattr(cfg, section), name, value)
    cfg.data.columns.update(parse_columns(args.column))
    if args.init is not None:
        kind, _, text = args.init.partition(":")
        if kind not in ("random", "zero", "text") or (kind != "text" and text):
            raise ConfigError(f'--init is {args.init!r}; use random, zero or text:"some words"')
        cfg.prefix.init, cfg.prefix.init_text = kind, text.strip().strip("'\"") if kind == "text" else ""
    cfg.validate()
    if cfg.train.report_to:
        from .tracking import check_trackers

        check_trackers(cfg.train.report_to)  # installed? one line now, not after the training
    return cfg
