"""Sweep overhead: what a hyperparameter sweep spends beyond its trials' training, on tiny-demo / toy-e2e.

    python bench/sweep_overhead.py [--trials 8] [--steps 200] [--pruner median]

One sweep of ``--trials`` trials over ``lr=1e-4:3e-1:log`` and ``prefix_length=2,8,16``, each
trial ``--steps`` steps with an evaluation every ``steps / 3``. Imports and one short warm-up run
happen before the clock starts (a CLI pays them once either way, and the first training of a process
is slower). The table splits the sweep's wall time into training (time inside ``Run.train``), what is
done once (loading the shared base and the data, creating the SQLite study) and each trial's share
outside training (creating the run on the shared base and data, exporting its directory, Optuna's
storage), then gives the overhead ratio (wall / training; target <= 1.10), the pruned count and the
best settings found.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import optuna  # noqa: F401  (imported before the clock, as the CLI has it by then)

from workbench import Run, RunConfig
from workbench.sweeps import sweep


def sweep_config(steps: int) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name = "tiny-demo"
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.data.max_length = 256, 16, 96
    cfg.train.steps, cfg.train.warmup_steps, cfg.train.eval_every = steps, 2, max(1, steps // 3)
    cfg.train.eval_generate, cfg.train.device = 16, "cpu"  # 16 generated rows per evaluation, whole sentences
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)  # the default run's length
    parser.add_argument("--pruner", default="median")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cfg = sweep_config(args.steps)
    warm = sweep_config(5)
    warm.train.eval_every = 0
    Run.create(warm).train()  # warm-up: kernels, allocator, metric libraries

    with tempfile.TemporaryDirectory() as tmp:
        result = sweep(cfg, ["lr=1e-4:3e-1:log", "prefix_length=2,8,16"], trials=args.trials,
                           out=Path(tmp) / "sweep", pruner=args.pruner)  # fmt: skip
    durations = sum(t.duration_s or 0.0 for t in result.trials)
    outside = [(t.duration_s or 0.0) - t.train_s for t in result.trials]
    counts = {s: sum(t.state == s for t in result.trials) for s in ("complete", "pruned", "fail")}
    rows = [
        ("trials (complete / pruned / failed)", f"{args.trials} ({counts['complete']} / {counts['pruned']} / "
                                                f"{counts['fail']})"),
        ("steps per trial (eval every)", f"{args.steps} ({cfg.train.eval_every})"),
        ("sweep wall time", f"{result.wall_s:.2f} s"),
        ("  training (sum over trials)", f"{result.train_s:.2f} s"),
        ("  once: base, data, study storage", f"{result.wall_s - durations:.2f} s"),
        ("  per trial outside training", f"{sum(outside) / len(outside):.3f} s (max {max(outside):.3f} s)"),
        ("overhead (wall / training)", f"{result.overhead:.3f}x (target <= 1.10)"),
        ("best", f"trial {result.best.number}: {result.metric} {result.best.value:.4g}" if result.best else "none"),
        ("best settings", ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in result.best.params.items()) if result.best else "-"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"sweep of {args.trials} trials on tiny-demo / toy-e2e, pruner {args.pruner}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
