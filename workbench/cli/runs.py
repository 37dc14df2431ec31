"""Commands on exported runs: ``evaluate`` (a split, with a per-label report) and ``generate``."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

from ..config import RunConfig, parse_columns
from ..errors import ConfigError

__all__ = ["register"]


def register(sub: Any) -> None:
    ev = sub.add_parser("evaluate", help="score an exported run on a split: metrics, per-label report, figure")
    ev.set_defaults(handler=_evaluate)
    ev.add_argument("--run", required=True, help="run directory written by `train`")
    ev.add_argument("--dataset", help="another dataset to score it on (default: the run's)")
    ev.add_argument("--column", action="append", default=[], metavar="ROLE=COLUMN",
                    help="as for train (another --dataset keeps the run's where it has those columns)")  # fmt: skip
    ev.add_argument("--split", default="test", choices=["train", "validation", "test"])
    ev.add_argument("--test-fraction", type=float, help="hold out this share of a file as the test split")
    ev.add_argument("--metric", help="headline metric (default: the run's)")

    gen = sub.add_parser("generate", help="greedy outputs from an exported run")
    gen.set_defaults(handler=_generate)
    gen.add_argument("--run", action="append", required=True, help="run directory written by `train` (repeatable)")
    gen.add_argument("--prompt", action="append", default=[], help="a source text (repeatable)")
    gen.add_argument("--prompts", help='JSONL file of rows {"prompt": ..., "run": ...}: one batch, a prefix per row')
    gen.add_argument("--max-new-tokens", type=int, default=None)
    gen.add_argument("--no-prefix", action="store_true", help="ask the frozen base model instead")


def _evaluate(args: argparse.Namespace) -> int:
    from ..report import report_text, save_report
    from ..run import Run

    run = Run.load(args.run)
    choice = copy.deepcopy(run.config.data)
    if args.dataset:  # its columns left open: the run carries its mapping to those the file has (Run.load_data)
        choice.name, choice.columns, choice.subset = args.dataset, {}, None
    choice.columns.update(parse_columns(args.column))
    choice.test_fraction = args.test_fraction if args.test_fraction is not None else choice.test_fraction
    choice.metric = args.metric or choice.metric
    RunConfig(data=choice).validate()
    data = run.load_data(choice)
    result = run.evaluate(args.split, data=data, report=True)
    print(report_text(result, split=args.split, name=choice.name))
    written = save_report(result, args.run, split=args.split)
    print("wrote " + " and ".join(str(p) for p in written))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from ..run import Run

    rows = [(p, args.run[0]) for p in args.prompt] + (_read_rows(args.prompts, args.run) if args.prompts else [])
    if not rows:
        raise ConfigError("give at least one --prompt, or a --prompts file")
    if len(args.run) == 1:
        run = Run.load(args.run[0])
        outputs = run.generate([p for p, _ in rows], use_prefix=not args.no_prefix, max_new_tokens=args.max_new_tokens)
    else:
        from ..prefix_bank import load_prefix_bank

        if args.no_prefix:
            raise ConfigError("--no-prefix takes a single --run")
        bank = load_prefix_bank(args.run)
        outputs = bank.generate([p for p, _ in rows], [r for _, r in rows], max_new_tokens=args.max_new_tokens or 48)
    for output in outputs:
        print(output)
    return 0


def _read_rows(path: str, runs: list[str]) -> list[tuple[str, str]]:
    """(prompt, run) pairs from a JSONL file; ``run`` may be left out when there is only one --run."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"prompts file {path!r} does not exist")
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prompt, run = row["prompt"], row.get("run", runs[0] if len(runs) == 1 else None)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise ConfigError(f'{path}:{number} is not a row {{"prompt": "...", "run": "..."}}') from None
        if run not in runs:
            raise ConfigError(f"{path}:{number} names run {run!r}, which is not one of the --run directories")
        rows.append((str(prompt), str(run)))
    return rows
