"""What the prefix learned, on the default run: the findings and how long the three analyses take.

    python bench/analysis_time.py [--repeats 3] [--steps 200]

Trains the default run (tiny-demo on toy-e2e, a 10-slot prefix, 200 steps) once, then
times :func:`workbench.analysis.analyse` (slot ablation, layer ablation, readout, with its
defaults: 64 rows for the loss, 16 generated rows for the metric) ``--repeats`` times and
prints the median of each part, the total against the 10 s target, and what it found.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import workbench as wb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    config = wb.RunConfig()
    config.train.steps = args.steps
    run = wb.Run.create(config)
    start = time.perf_counter()
    run.train()
    print(f"trained {config.model.name} on {config.data.name}, prefix {config.prefix.length}, {args.steps} steps "
          f"in {time.perf_counter() - start:.1f} s ({torch.get_num_threads()} threads)")  # fmt: skip
    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        analysis = wb.analyse(run)
        runs.append((time.perf_counter() - start, analysis))
    analysis = runs[-1][1]
    for part in analysis.seconds:
        print(f"  {part:<16} {statistics.median(a.seconds[part] for _, a in runs):6.2f} s")
    total = statistics.median(t for t, _ in runs)
    print(f"  {'all three':<16} {total:6.2f} s  (target <= 10 s: {'ok' if total <= 10 else 'OVER'})")
    s, layers = analysis.slots, analysis.layers
    metric = s.metric
    print(f"full prefix: loss {s.full.loss:.3f}, {metric} {s.full.metric}; no prefix: loss {s.none.loss:.3f}, "
          f"{metric} {s.none.metric}")  # fmt: skip
    print("slot hidden -> loss: " + ", ".join(f"P{i} {x.loss:.3f}" for i, x in enumerate(s.without)))
    print("top-k slots kept -> share of the gain: " + ", ".join(
        f"{k} {s.kept_share(k):.0%}" for k in range(1, len(s.kept) + 1)))  # fmt: skip
    print("layer hidden -> share of the gain lost: " + ", ".join(
        f"L{i} {layers.cost(i):.0%}" for i in range(len(layers.without))))  # fmt: skip
    print("layer kept alone -> loss: " + ", ".join(f"L{i} {x.loss:.3f}" for i, x in enumerate(layers.only)))
    print(analysis.summary())


if __name__ == "__main__":
    main()
