"""What one evaluation costs on a real model, part by part: the pause training takes for it in the panel.

    python bench/eval_cost.py [--model smollm2-135m] [--repeats 2]

A SmolLM2-135M run on the real E2E dev set (``prefix-workbench fetch smollm2-135m``) with the default
settings, its evaluation taken apart as the panel meets it at every evaluation: the validation loss (the
default 200 held-out rows), the generated records scored for the headline metric (``eval_generate``, 32
by default, batched with the KV cache), the attention probe (one row, 30 layers x 9 heads) and, at the
first evaluation only, the frozen base's outputs for the three samples shown. Prints the median seconds
of each part and their sum.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from _measure import DATA

import workbench as wb
from workbench.evaluate import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    wb.fetch_model(args.model)
    config = wb.RunConfig()
    config.model.name, config.data.name = args.model, str(DATA / "e2e" / "devset.csv")
    config.data.columns = {"source": "mr", "target": "ref"}
    run = wb.Run.create(config)
    data, (_, encoded), t = run.data, run.splits, config.train

    def scored(n_generate: int) -> Callable[[], object]:
        return lambda: evaluate(run.live_model, run.tokenizer, run.objective, data, encoded if not n_generate else
                                type(encoded)([], 0), batch_size=t.batch_size, separator=config.data.separator,
                                n_generate=n_generate, max_new_tokens=t.max_new_tokens)  # fmt: skip

    samples = [data.render(row)[0] for row in data.validation.select(range(3))]
    parts = {
        f"validation loss ({len(encoded)} rows)": scored(0),
        f"generation ({t.eval_generate} records)": scored(t.eval_generate),
        "attention probe (1 row)": lambda: run.probe(),
        "frozen base's 3 samples (first evaluation)": lambda: run.generate(samples, use_prefix=False),
    }
    total = 0.0
    for name, part in parts.items():
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            part()
            seconds.append(time.perf_counter() - start)
        total += statistics.median(seconds)
        print(f"  {name:<44} {statistics.median(seconds):6.2f} s", flush=True)
    print(f"  {'one evaluation in the panel':<44} {total:6.2f} s")


if __name__ == "__main__":
    main()
