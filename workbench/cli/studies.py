"""Studies across runs: ``compare`` (prefix tuning against other methods) and ``multitask``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config_flags import add_config_arguments, config_from_args
from ..errors import ConfigError
from ..jsonio import dumps
from ._common import StepsBar

__all__ = ["register"]


def register(sub: Any) -> None:
    cmp = sub.add_parser(
        "compare",
        help="prefix lengths, projection, prompt tuning, LoRA and full fine-tuning "
        "on the same data and budget: a table and a chart",
    )
    cmp.set_defaults(handler=_compare)
    # Every setting of a run: any model and data (--column, --kind, --metric), the training size
    # (--max-train-examples rows or --max-train-records records), steps, batch, evaluation.
    add_config_arguments(cmp)
    cmp.add_argument("--only", action="append", default=[], help="run only the method with this label (repeatable)")
    cmp.add_argument("--out", default="runs/compare", help="folder for compare.json and compare.html")

    mt = sub.add_parser("multitask", help="several tasks: one prefix on their mixture vs one prefix per task in "
                                          "one batch, scored task by task")  # fmt: skip
    mt.set_defaults(handler=_multitask)
    # Every setting of a run (a decoder; --dataset once per task, two or more): --steps for the mixed prefix and
    # for each per-task prefix, --eval-generate for the validation rows scored (the tasks take turns).
    add_config_arguments(mt)
    mt.add_argument("--out", default="runs/multitask", help="folder for multitask.json")


def _compare(args: argparse.Namespace) -> int:
    from ..comparison import DEFAULT_METHODS, compare, format_table
    from ..plots import comparison_figure

    cfg = config_from_args(args)
    methods = [m for m in DEFAULT_METHODS if not args.only or m.label in args.only]
    if not methods:
        labels = ", ".join(m.label for m in DEFAULT_METHODS)
        raise ConfigError(f"--only {args.only} matches no method; labels: {labels}")
    bar = StepsBar(cfg.train.steps * len(methods), "compare")
    try:
        results = compare(cfg, methods, on_result=lambda r: bar.write(format_table([r]).splitlines()[-1]),
                          callbacks=[bar])  # fmt: skip
    finally:
        bar.close()
    print(format_table(results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(dumps([r.to_dict() for r in results], indent=1) + "\n")
    comparison_figure(results).write_html(out / "compare.html", include_plotlyjs="cdn")
    print(f"wrote {out / 'compare.json'} and {out / 'compare.html'}")
    return 0


def _multitask(args: argparse.Namespace) -> int:
    from ..multitask import compare_multitask, format_multitask_table

    if len(args.dataset or []) < 2:
        raise ConfigError("give two or more --dataset, one per task")
    cfg = config_from_args(args)
    bar = StepsBar(cfg.train.steps * (2 + len(cfg.data.mix)), "multitask")  # the mixture, then each task
    try:
        results = compare_multitask(cfg, on_result=lambda r: bar.write(f"{r.method}: {r.metrics}"), callbacks=[bar])
    finally:
        bar.close()
    from ..data import load_task_data

    print(format_multitask_table(results, load_task_data(cfg.data, seed=cfg.train.seed)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "multitask.json").write_text(dumps([r.to_dict() for r in results], indent=1) + "\n")
    print(f"wrote {out / 'multitask.json'}")
    return 0
