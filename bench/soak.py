"""Long sessions: memory over many panel runs, and a long run's chart and history costs.

    python bench/soak.py [--runs 20] [--long-steps 20000]

Part 1, in one process as in one notebook kernel: a panel (tiny-demo on toy-e2e, the
defaults) trains 100 steps, is stopped part-way through the next run's steps, trains
again, and exports — ``--runs`` times; the resident memory (RSS) after each run is
printed, and the growth per run after the first (the frozen base is shared, so it
should be small: target <= 5 MB). Part 2: one run of ``--long-steps`` steps on tiny-gpt2
(the fastest built-in) with the panel's live chart: how long a chart redraw takes at
the end (with 2,000-point thinning) and how large the history is in run.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from workbench import RunConfig, plots
from workbench.ui import Workbench


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def soak(runs: int, out: Path) -> list[float]:
    cfg = RunConfig()
    cfg.train.steps, cfg.train.eval_every = 100, 50
    panel = Workbench(cfg, charts="widget")
    panel.settled()
    sizes = []
    for i in range(runs):
        panel.train(wait=True)
        panel.train()  # Train, then Stop part-way
        while panel.run is None or panel.run.history.last_step < 20 or not panel.is_training:
            time.sleep(0.005)
        panel.stop()
        panel.wait()
        panel.export(out / f"run-{i}", overwrite=True)
        gc.collect()
        sizes.append(rss_mb())
        print(f"  after run {i + 1:>2} (two trainings, a stop, an export): RSS {sizes[-1]:7.1f} MB", flush=True)
    return sizes


def long_run(steps: int, out: Path) -> dict[str, float]:
    cfg = RunConfig()
    cfg.model.name, cfg.train.steps, cfg.train.eval_every, cfg.train.batch_size = "tiny-gpt2", steps, 5000, 4
    cfg.data.max_length, cfg.train.eval_generate = 32, 8
    panel = Workbench(cfg, charts="widget")
    panel.settled()
    start = time.perf_counter()
    run = panel.train(wait=True)
    train_s = time.perf_counter() - start
    draws = []
    for _ in range(5):
        t = time.perf_counter()
        panel.loss_chart.show(plots.loss_figure(run.history))
        draws.append(time.perf_counter() - t)
    path = run.export(out / "long")
    history_kb = len(json.dumps(run.history.to_dict())) / 1024
    points = len(panel.loss_chart.figure.data[0].x)
    return {"train_s": train_s, "redraw_ms": 1000 * statistics.median(draws), "history_kb": history_kb,
            "run_json_kb": (path / "run.json").stat().st_size / 1024, "chart_points": points}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--long-steps", type=int, default=20_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.runs} panel runs in one process (tiny-demo, toy-e2e):")
        sizes = soak(args.runs, Path(tmp))
        growth = (sizes[-1] - sizes[0]) / max(len(sizes) - 1, 1)
        print(f"{args.long_steps:,}-step run with the live chart (tiny-gpt2):")
        long = long_run(args.long_steps, Path(tmp))
        print(f"  trained in {long['train_s']:.0f} s; chart redraw {long['redraw_ms']:.0f} ms with "
              f"{long['chart_points']:,} points per series; history {long['history_kb']:,.0f} kB, run.json "
              f"{long['run_json_kb']:,.0f} kB")  # fmt: skip
    print(
        f"soak: RSS growth {growth:.2f} MB per round of two runs after the first (target <= 5 per run); "
        f"{args.long_steps:,}-step chart redraw {long['redraw_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
