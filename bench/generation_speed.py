"""Evaluation generation with a prefix vs plain ``generate`` of the frozen base: same prompts, same work.

    python bench/generation_speed.py [--model smollm2-135m] [--rows 32] [--new-tokens 48] [--repeats 3]

Both sides run the workbench's batched greedy generation (:func:`workbench.generate.generate_texts`,
batch 16, left padding) on the same E2E records; one through PEFT with a trained-shape prefix of 10
slots as past keys and values, one on the bare base model without PEFT. Both are held to exactly
``--new-tokens`` new tokens (``min_new_tokens``), so they do the same number of decoding steps. Runs
alternate; medians. The ratio printed last is prefix tokens/s over base tokens/s (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from _measure import bench_config

from workbench import Run
from workbench.generate import generate_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cfg = bench_config(args.model, 1)
    cfg.data.max_eval_examples = 20 * args.rows  # whole records: enough of them for --rows prompts
    run = Run.create(cfg)
    prompts = [run.data.render(row)[0] for row in run.data.data_kind.scored_rows(run.data.validation, args.rows)]
    base = run.model.get_base_model()
    base.generation_config.min_new_tokens = args.new_tokens  # the same decoding steps on both sides
    sides = {"prefix": run.model, "base": base}
    seconds: dict[str, list[float]] = {side: [] for side in sides}
    for repeat in range(args.repeats + 1):  # the first round warms up
        for side, model in sides.items():
            start = time.perf_counter()
            generate_texts(model, run.tokenizer, prompts, objective=run.objective, max_new_tokens=args.new_tokens,
                           separator=run.config.data.separator)  # fmt: skip
            if repeat:
                seconds[side].append(time.perf_counter() - start)
    tokens = len(prompts) * args.new_tokens
    rate = {side: tokens / statistics.median(s) for side, s in seconds.items()}
    for side, r in rate.items():
        print(f"{side:<7} {len(prompts)} prompts x {args.new_tokens} new tokens: {r:,.0f} tokens/s")
    print(f"generation with the prefix / plain generate of the base: {rate['prefix'] / rate['base']:.2f}x "
          "(goal >= 0.9)")  # fmt: skip


if __name__ == "__main__":
    main()
