"""What the prefix learned, and how long the three analyses take: the default run or a real 30-layer model.

    python bench/analysis_time.py [--repeats 3] [--steps 200]
    python bench/analysis_time.py --model smollm2-135m [--brute] [--against 64]

Trains a run once — the default (tiny-demo on toy-e2e, a 10-slot prefix, 200 steps), or with ``--model
smollm2-135m`` (``prefix-workbench fetch smollm2-135m``) a 4-step run on the real E2E dev set, as a new user's
first try — then times :func:`workbench.analysis.analyse` (slot ablation, layer ablation, readout, with its
defaults: as many of 64 validation rows as fit about two minutes of loss passes, or ``--rows``, and 16
generated records for the metric) ``--repeats`` times and prints the median of each part and what it found.
``--against N`` also analyses on N rows once and says whether the findings (the effective slots, the layers
that matter) are the same. ``--brute`` also times the way without shortcuts, side by side in
this process — every layer of every variant run, every variant generated, every top-k kept — and checks that
the shortcuts' losses and findings equal it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _measure import DATA

import workbench as wb
from workbench.analysis import Scorer

E2E_DEV = DATA / "e2e" / "devset.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="smollm2-135m: a 4-step run on the E2E dev set")
    parser.add_argument("--repeats", type=int, default=None, help="default: 3 (1 for --model)")
    parser.add_argument("--steps", type=int, default=None, help="default: 200 (4 for --model)")
    parser.add_argument("--rows", type=int, default=None, help="validation rows for the loss (default: analyse's)")
    parser.add_argument("--against", type=int, default=None, help="also analyse on this many rows and compare")
    parser.add_argument("--brute", action="store_true", help="time the way without shortcuts too, and compare")
    args = parser.parse_args()
    config = wb.RunConfig()
    if args.model:
        wb.fetch_model(args.model)
        config.model.name, config.data.name = args.model, str(E2E_DEV)
        config.data.columns, config.data.max_eval_examples = {"source": "mr", "target": "ref"}, 64
    config.train.steps = args.steps or (4 if args.model else 200)
    run = wb.Run.create(config)
    start = time.perf_counter()
    run.train()
    layers = run.live_model.active_peft_config.num_layers
    took = time.perf_counter() - start
    print(f"trained {config.model.name} ({layers} layers) on {config.data.name}, prefix {config.prefix.length}, "
          f"{config.train.steps} steps in {took:.1f} s ({torch.get_num_threads()} threads)")  # fmt: skip
    runs = []
    for _ in range(args.repeats or (1 if args.model else 3)):
        start = time.perf_counter()
        analysis = wb.analyse(run, rows=args.rows)
        runs.append((time.perf_counter() - start, analysis))
    analysis = runs[-1][1]
    for part in analysis.seconds:
        print(f"  {part:<16} {statistics.median(a.seconds[part] for _, a in runs):7.2f} s")
    total = statistics.median(t for t, _ in runs)
    print(f"  {'all three':<16} {total:7.2f} s on {analysis.scope()}")
    _show(analysis)
    if args.against:
        start = time.perf_counter()
        other = wb.analyse(run, rows=args.against)
        took = time.perf_counter() - start
        same = (analysis.slots.effective, analysis.layers.layers_that_matter()) == (
            other.slots.effective, other.layers.layers_that_matter())  # fmt: skip
        print(f"on {other.rows} rows ({took:.1f} s): {other.summary()}\nsame effective slots and layers that "
              f"matter as on {analysis.rows} rows: {same}")  # fmt: skip
    if args.brute:
        start = time.perf_counter()
        losses = _brute(run, analysis.rows)
        brute = time.perf_counter() - start
        fast = analysis.seconds["slot ablation"] + analysis.seconds["layer ablation"]
        same = _losses(analysis) == {k: v for k, v in losses.items() if k in _losses(analysis)}
        print(f"without shortcuts: both ablations {brute:.1f} s, with them {fast:.1f} s: {brute / fast:.1f}x faster; "
              f"every loss the shortcuts computed equals the brute force's: {same}")  # fmt: skip


def _show(analysis: wb.Analysis) -> None:
    s, layers = analysis.slots, analysis.layers
    metric = s.metric
    print(f"full prefix: loss {s.full.loss:.3f}, {metric} {s.full.metric}; no prefix: loss {s.none.loss:.3f}, "
          f"{metric} {s.none.metric}")  # fmt: skip
    print("slot hidden -> loss: " + ", ".join(f"P{i} {x.loss:.3f}" for i, x in enumerate(s.without)))
    print("top-k slots kept -> share of the gain (± standard error): " + ", ".join(
        f"{k} {s.kept_text(k)}" for k in range(1, len(s.kept) + 1)))  # fmt: skip
    print("layer hidden -> share of the gain lost (± standard error): " + ", ".join(
        f"L{i} {layers.cost_text(i)}" for i in range(len(layers.without))))  # fmt: skip
    print("layer kept alone -> loss: " + ", ".join(f"L{i} {x.loss:.3f}" for i, x in enumerate(layers.only)))
    print(analysis.summary())


def _losses(analysis: wb.Analysis) -> dict[str, float]:
    s, layers = analysis.slots, analysis.layers
    out = {"full": s.full.loss, "none": s.none.loss}
    out |= {f"P{i} hidden": x.loss for i, x in enumerate(s.without)}
    out |= {f"top {k} kept": x for k, x in enumerate(s.kept, 1)}
    out |= {f"L{i} hidden": x.loss for i, x in enumerate(layers.without)}
    return out | {f"L{i} only": x.loss for i, x in enumerate(layers.only)}


def _brute(run: wb.Run, rows: int) -> dict[str, float]:
    """The ablations as they ran before the shortcuts: every layer run, the metric generated for every
    variant, every top-k kept; the losses by variant."""
    score = Scorer(run, rows, 16, replay=False)
    layers, n = score.shape
    every = torch.ones(score.shape, dtype=torch.bool)
    out = {"full": score(every, True).loss, "none": score(~every, True).loss}
    for slot in range(n):
        out[f"P{slot} hidden"] = score(score.visible([s for s in range(n) if s != slot]), True).loss
    order = sorted(range(n), key=lambda s: out[f"P{s} hidden"], reverse=True)
    out |= {f"top {k} kept": score(score.visible(order[:k])).loss for k in range(1, n + 1)}
    for layer in range(layers):
        one = torch.zeros(score.shape, dtype=torch.bool)
        one[layer] = True
        out[f"L{layer} hidden"], out[f"L{layer} only"] = score(~one, True).loss, score(one, True).loss
    return out


if __name__ == "__main__":
    main()
