"""``prefix-workbench sweep``: search a run's settings with Optuna, prune the hopeless trials, keep the best.

``--space "lr=1e-4:1e-1:log" --space "prefix_length=1,5,10,20"`` (repeatable) names what to
search; every other flag is a run setting, as for ``train``. Prints one line per trial as it
ends and the table at the end; the sweep folder holds ``study.db`` (Optuna's storage: ``--resume``
continues it, ``optuna-dashboard sqlite:///DIR/study.db`` opens it), ``sweep.json``, one run
directory per trial, ``best/`` and ``sweep.html`` (Optuna's figures and every trial's curve). The
space, the folder and the trackers are checked before anything loads or is written.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..config_flags import add_config_arguments, config_from_args
from ..errors import ConfigError
from ._common import EXIT_STOPPED

__all__ = ["register"]


def register(sub: Any) -> None:
    cmd = sub.add_parser("sweep", help="search settings with Optuna (TPE, pruning); resumable; exports the best")
    cmd.set_defaults(handler=_sweep)
    cmd.add_argument("--space", action="append", default=[], metavar="NAME=SPEC", required=True,
                     help='what to search, repeatable: "lr=1e-4:1e-1:log" (a range, log scale), "steps=50:200" '
                          '(whole numbers), "prefix_length=1,5,10" or "init=random,text" (choices)')  # fmt: skip
    cmd.add_argument("--trials", type=int, default=20, help="trials in all, a resumed sweep's earlier ones included")
    cmd.add_argument("--pruner", choices=["median", "halving", "none"], default="median",
                     help="stop trials whose validation metric trails the others' at the same step")  # fmt: skip
    cmd.add_argument("--out", help="sweep folder (default runs/sweep-<time>)")
    cmd.add_argument("--resume", action="store_true", help="continue the sweep in --out where it stopped")
    add_config_arguments(cmd)


def _sweep(args: argparse.Namespace) -> int:
    from ..sweeps import parse_space

    space = parse_space(args.space)  # a malformed spec answers here, before anything loads
    config = config_from_args(args)
    if args.resume and not args.out:
        raise ConfigError("--resume needs the --out folder of the sweep to continue")
    out = Path(args.out or f"runs/sweep-{time.strftime('%Y%m%d-%H%M%S')}")
    from ..sweeps import sweep, sweep_figures
    from ..sweeps._backend import require_optuna

    require_optuna()
    from ..sweeps.study import STUDY_FILE

    # A mistyped --out with --resume starts a new sweep: say so rather than let it pass for a continuation.
    fresh = " (nothing to resume there: a new sweep)" if args.resume and not (out / STUDY_FILE).is_file() else ""
    print(f"sweep of {args.trials} trials over {' '.join(space.specs)} in {out} ({args.pruner} pruning){fresh}",
          flush=True)  # fmt: skip
    stop = threading.Event()

    def said(trial: Any) -> None:
        value = "-" if trial.value is None else f"{trial.value:.4g}"
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
        note = f" ({trial.note})" if trial.note else ""
        print(f"trial {trial.number}: {trial.state} {value}  {params}  {trial.train_s:.1f} s{note}", flush=True)

    try:
        result = sweep(config, space, trials=args.trials, out=out, resume=args.resume, pruner=args.pruner,
                           on_trial=said, stop=stop)  # fmt: skip
    except KeyboardInterrupt:
        print(f"stopped; continue with: prefix-workbench sweep ... --out {out} --resume", file=sys.stderr)
        return EXIT_STOPPED
    print(result.format_table())
    figures, skipped = sweep_figures(out)
    _write_html(figures, skipped, out / "sweep.html")
    best = f"best run: {out / 'best'}; " if result.best else ""
    print(f"{best}figures: {out / 'sweep.html'}; study: optuna-dashboard sqlite:///{(out / 'study.db').resolve()}")
    return EXIT_STOPPED if result.stopped else 0


def _write_html(figures: dict[str, Any], skipped: dict[str, str], path: Path) -> None:
    from ..rundir import write_text

    parts = [f.to_html(full_html=False, include_plotlyjs="cdn" if i == 0 else False)
             for i, f in enumerate(figures.values())]  # fmt: skip
    notes = "".join(f"<p>{name}: {why}</p>" for name, why in skipped.items())
    write_text(path, f"<html><body>{''.join(parts)}{notes}</body></html>\n")
