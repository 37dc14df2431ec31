"""``prefix-workbench train``: create (or resume) a run, train it with a progress bar, export it.

Flags map one-to-one onto :class:`~workbench.config.RunConfig` (:mod:`workbench.config_flags`);
``--config run.json`` loads saved settings first. Settings are checked before the
training stack is imported, so a typo answers at once. A disk that refuses the run
directory ends with a rescue copy of the prefix (:meth:`~workbench.run.Run.finish`) and exit status 4.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..config_flags import add_config_arguments, config_from_args
from ..errors import ConfigError, WriteError
from ._common import EXIT_WRITE

__all__ = ["register"]


def register(sub: Any) -> None:
    train = sub.add_parser("train", help="train a prefix and export the run directory")
    train.set_defaults(handler=_train)
    add_config_arguments(train)
    train.add_argument("--out", help="run directory to write (default runs/<model>-<dataset>-<time>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    train.add_argument(
        "--resume", metavar="DIR", help="continue the run in DIR from its checkpoint (--steps to extend)"
    )


def _train(args: argparse.Namespace) -> int:
    # Settings are checked before torch and friends are imported: a typo answers at once.
    cfg = None if args.resume else config_from_args(args)
    from tqdm.auto import tqdm

    from ..history import EndEvent, EvalEvent, Event, StepEvent
    from ..report import report_text
    from ..run import Run

    if cfg is None:
        out = Path(args.out or args.resume)
        if out != Path(args.resume) and out.exists() and not args.overwrite:
            raise ConfigError(f"run directory {str(out)!r} already exists; pass --overwrite or choose another --out")
        args.overwrite = True  # a resumed run rewrites its own directory
        run = Run.resume(args.resume, steps=args.steps)
        cfg = run.config
        print(f"resuming at step {run.trainer.step} of {cfg.train.steps} ({args.resume})")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(args.out or f"runs/{Path(cfg.model.name).name}-{Path(cfg.data.name).stem}-{stamp}")
        if out.exists() and not args.overwrite:
            raise ConfigError(f"run directory {str(out)!r} already exists; pass --overwrite or choose another --out")
        run = Run.create(cfg)
    for finding in run.findings:
        print(f"  {finding}", file=sys.stderr)
    counts = run.counts
    print(
        f"{cfg.model.name} ({run.objective}) on {cfg.data.name}: prefix {cfg.prefix.length} tokens, "
        f"{counts.trainable:,} trainable of {counts.base:,} base parameters ({counts.trainable_percent:.2f}%)"
    )
    headline = run.metric
    bar = tqdm(total=cfg.train.steps, initial=run.history.last_step, desc="train", unit="step", dynamic_ncols=True)

    def show(event: Event) -> None:
        if isinstance(event, StepEvent):
            bar.update(event.step - bar.n)
            busy = "starved" if event.starved else f"{event.threads} thread(s)" if event.threads else ""
            starved = {"cpu": f"{busy} (another process is busy)"} if busy else {}
            bar.set_postfix(loss=f"{event.loss:.3f}", tok_s=f"{event.tokens_per_s:,.0f}", **starved, refresh=False)
            if run.config.train.evaluates_at(event.step):  # the bar would stand still while it evaluates
                bar.set_description_str("evaluate", refresh=True)
        elif isinstance(event, EvalEvent):
            bar.set_description_str("train", refresh=False)
            metric = event.metrics.get(headline)
            extra = f", {headline} {metric:.3f}" if metric is not None else ""
            bar.write(f"step {event.step}: validation loss {event.loss:.3f}{extra}")
        elif isinstance(event, EndEvent) and event.message:
            bar.write(event.message)

    try:
        history = run.train([show], checkpoint_to=out)  # every ending returns; `show` said why it ended
    finally:
        bar.close()
    if not run.trainer.accelerator.is_main_process:
        return 0  # under `accelerate launch`, one process writes the run
    if run.checkpoint_problem:
        print(f"prefix-workbench: warning: a checkpoint was not written ({run.checkpoint_problem})", file=sys.stderr)
    # `out` was checked to be new (or --overwrite given) before training; checkpoints may have written it since.
    try:
        path = run.finish(out)
    except WriteError as exc:  # it says where the rescued prefix is
        print(f"prefix-workbench: error: {exc}", file=sys.stderr)
        return EXIT_WRITE
    end = history.ends[-1]
    final = run.final_evaluation()  # the test split's, else the last validation's: metrics and per-label report
    if final is not None:
        print(report_text(final, split="test" if run.test is not None else "validation", name=cfg.data.name))
    print(f"{end.reason} after {end.step} steps in {end.elapsed_s:.1f} s; run written to {path}")
    if run.tracked_where:
        print(f"tracked: {run.tracked_where}")
    return end.ending.exit_code
