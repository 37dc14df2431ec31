"""Batches grouped by length against the plain shuffle: padding, training tokens/s and the loss curve.

    python bench/padding.py [--model smollm2-135m] [--steps 150] [--batch-size 8]

Trains the same prefix twice on the real E2E dev set (``../shared/data/e2e``; SmolLM2-135M by default,
``prefix-workbench fetch smollm2-135m``), once with ``group_by_length`` off and once on, from the same seed,
and prints for each: the share of the padded tokens that were padding, training tokens/s (real tokens, the
median over steps), seconds per step, the mean loss of the first and last 30 steps and the validation loss
at the end — and the ratios. Goal: grouping ≥ 1.25x the tokens/s at the same loss curve.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _measure import DATA

import workbench as wb
from workbench.data.batching import epoch_batches, padding_share, row_length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    if args.model.startswith("smollm2"):
        wb.fetch_model(args.model)
    rows = {}
    for grouped in (False, True):
        config = wb.RunConfig()
        config.model.name, config.data.name = args.model, str(DATA / "e2e" / "devset.csv")
        config.data.columns, config.data.max_eval_examples = {"source": "mr", "target": "ref"}, 64
        config.train.steps, config.train.batch_size, config.train.eval_every = args.steps, args.batch_size, 0
        config.train.eval_generate, config.train.group_by_length = 0, grouped
        run = wb.Run.create(config)
        lengths = [row_length(f) for f in run.splits[0].features]
        epochs = -(-args.steps * args.batch_size // len(lengths))
        dealt = [b for e in range(epochs) for b in epoch_batches(lengths, args.batch_size, seed=config.train.seed,
                                                                 epoch=e, by_length=grouped)][: args.steps]  # fmt: skip
        start = time.perf_counter()
        history = run.train()
        wall = time.perf_counter() - start
        losses = history.losses()
        rows[grouped] = {
            "padding": padding_share(lengths, dealt),
            "tokens/s": statistics.median(s.tokens_per_s for s in history.steps),
            "s/step": history.steps[-1].elapsed_s / len(history.steps),
            "first 30": statistics.fmean(losses[:30]),
            "last 30": statistics.fmean(losses[-30:]),
            "validation": history.evals[-1].loss,
            "wall": wall,
        }
        print(f"group_by_length={grouped}: " + ", ".join(f"{k} {v:.3f}" for k, v in rows[grouped].items()), flush=True)
    off, on = rows[False], rows[True]
    print(f"{args.model}, E2E dev, {args.steps} steps of {args.batch_size}: padding {off['padding']:.0%} -> "
          f"{on['padding']:.0%}; tokens/s {on['tokens/s'] / off['tokens/s']:.2f}x; s/step "
          f"{off['s/step'] / on['s/step']:.2f}x faster; last-30 loss {off['last 30']:.3f} vs "
          f"{on['last 30']:.3f}; validation loss {off['validation']:.3f} vs {on['validation']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
