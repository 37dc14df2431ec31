"""``prefix-workbench analyse --run DIR``: what an exported run's prefix learned, as figures and JSON.

Runs :func:`workbench.analysis.analyse` (slot ablation, layer ablation, nearest tokens)
on the run's validation rows, prints the three-line summary and writes
``analysis/analysis.json`` plus one HTML figure per analysis into the run directory
(or ``--out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["register"]


def register(sub: Any) -> None:
    cmd = sub.add_parser("analyse", help="what a run's prefix learned: slot and layer ablation, nearest tokens")
    cmd.set_defaults(handler=_analyse)
    cmd.add_argument("--run", required=True, help="run directory written by `train`")
    cmd.add_argument(
        "--rows",
        type=int,
        help="validation rows scored for the loss (default: as many of the first "
        "64 as fit about 2 minutes of loss passes, at least 16)",
    )
    cmd.add_argument("--metric-rows", type=int, default=16,
                     help="rows generated for the headline metric (text models; 0: loss only)")  # fmt: skip
    cmd.add_argument("--top", type=int, default=5, help="nearest tokens shown per slot")
    cmd.add_argument("--vocab", type=int, default=4096, help="vocabulary entries compared (a seeded sample)")
    cmd.add_argument("--out", help="folder for the figures and analysis.json (default: DIR/analysis)")


def _analyse(args: argparse.Namespace) -> int:
    rows = 1 if args.rows is None else args.rows  # None: fitted to the time
    for flag, value, least in (("--rows", rows, 1), ("--metric-rows", args.metric_rows, 0), ("--top", args.top, 1),
                               ("--vocab", args.vocab, 1)):  # fmt: skip
        if value < least:
            raise ConfigError(f"{flag} is {value}; give at least {least}")
    from ..rundir import read_run_record

    read_run_record(args.run)  # a broken run directory is refused before the analysis loads
    from tqdm.auto import tqdm

    from ..analysis import analyse, save_analysis
    from ..run import Run

    run = Run.load(args.run)
    # One status line ("analyse: slot P3 hidden (4 of 10)"), cleared when the summary is printed.
    with tqdm(desc="analyse", bar_format="{desc}", dynamic_ncols=True, leave=False) as bar:
        result = analyse(run, rows=args.rows, metric_rows=args.metric_rows, top=args.top, vocab=args.vocab,
                         progress=lambda text: bar.set_description_str(f"analyse: {text}"))  # fmt: skip
    print(result.summary())
    written = save_analysis(result, Path(args.out) if args.out else Path(args.run) / "analysis")
    print(f"{result.scope()}; wrote {written[0].parent}/: " + ", ".join(p.name for p in written))
    return 0
