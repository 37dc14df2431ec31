"""The paper's comparison on real data: SmolLM2-135M on the E2E dev set, split by record.

    python bench/real_model.py [--grid cpu|full] [--steps N] [--only PART] [--out runs/bench/real_model]

Li & Liang (2021) compare prefix tuning with fine-tuning on E2E (GPT-2 medium, full training set:
prefix 69.7 vs fine-tuning 68.2 BLEU) and find prefix tuning ahead with little data. This runs the same
questions on what these machines have: SmolLM2-135M-Instruct (``prefix-workbench fetch smollm2-135m``)
and the E2E development set (``../shared/data/e2e/devset.csv``: 547 records, ~8.5 references each),
split by record so no record is in two splits, every method scored on the same held-out records, each
record once against all of its references (BLEU, ROUGE-L, chrF). Parts:

  methods   prefix (random and text init) / prompt tuning / LoRA / full fine-tuning at 50 and 200 records
            (full grid: and all the rest)
  init      text vs random init at 50 records, seeds 0-2
  length    prefix length 1, 5, 20 next to 10, at 200 records (full grid: 50 and 100 too)
  defaults  projection, learning rate and zero init at 200 records

The CPU grid (the default) trains every row for the same small budget (--steps, batch 8) and generates
for 24 held-out records; it takes about 45 minutes on 2 cores. The full grid (a GPU) trains 5x longer
and scores 100 records. Tables go to stdout and ``real_model.md``; every number to ``real_model.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from _measure import E2E, markdown_table

from workbench import RunConfig
from workbench.comparison import Method, Result, compare
from workbench.models import fetch_model

INIT_TEXT = "describe the restaurant record in one sentence :"
# Learning rates by kind for this model: the prefix at the workbench default, the others at what suits a
# 135M model's weights (full fine-tuning moves all of them).
LR = {"prefix": 1e-2, "prompt": 3e-2, "lora": 1e-3, "full": 1e-4}


def _text(label: str, length: int = 10, **kw: object) -> Method:
    return Method(label, length=length, init="text", init_text=INIT_TEXT, lr=LR["prefix"], **kw)  # type: ignore[arg-type]


def _methods(records: int | None, tag: str) -> list[Method]:
    return [
        Method(f"prefix 10 random, {tag}", length=10, init="random", lr=LR["prefix"], records=records),
        _text(f"prefix 10 text, {tag}", records=records),
        Method(f"prompt tuning 10, {tag}", kind="prompt", length=10, lr=LR["prompt"], records=records),
        Method(f"LoRA r=8, {tag}", kind="lora", lr=LR["lora"], records=records),
        Method(f"full fine-tuning, {tag}", kind="full", lr=LR["full"], records=records),
    ]


def parts(full: bool) -> dict[str, list[tuple[int, Method]]]:
    """Each part's rows as (seed, method)."""
    sizes = [(50, "50 rec"), (200, "200 rec")] + ([(None, "all rec")] if full else [])
    lengths = [1, 5, 20] + ([50, 100] if full else [])
    return {
        "methods": [(0, m) for records, tag in sizes for m in _methods(records, tag)],
        "init": [(seed, m) for seed in (1, 2) for m in (
            Method(f"prefix 10 random, 50 rec, seed {seed}", length=10, init="random", lr=LR["prefix"], records=50),
            _text(f"prefix 10 text, 50 rec, seed {seed}", records=50))],
        "length": [(0, _text(f"prefix {n} text, 200 rec", length=n, records=200)) for n in lengths],
        "defaults": [
            (0, Method("prefix 10 random + projection, lr 1e-3, 200 rec", length=10, projection=True, lr=1e-3,
                       records=200)),
            (0, Method("prefix 10 random, lr 3e-3, 200 rec", length=10, init="random", lr=3e-3, records=200)),
            (0, Method("prefix 10 random, lr 3e-2, 200 rec", length=10, init="random", lr=3e-2, records=200)),
            (0, Method("prefix 10 zero, 200 rec", length=10, init="zero", lr=LR["prefix"], records=200)),
        ],
    }  # fmt: skip


def config(model: str, steps: int, eval_records: int, seed: int) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name = model
    cfg.data.name, cfg.data.columns = str(E2E), {"source": "mr", "target": "ref"}
    # 10% of the records held out (55), of which the first eval_records are scored, whole.
    cfg.data.max_length, cfg.data.max_eval_examples = 128, 10 * eval_records
    cfg.train.steps, cfg.train.batch_size, cfg.train.seed = steps, 8, seed
    cfg.train.eval_generate, cfg.train.max_new_tokens = eval_records, 48  # E2E references: ~25 tokens
    return cfg.validate()


def row(part: str, seed: int, r: Result) -> dict[str, object]:
    m = r.metrics
    return {"part": part, "method": r.method.label, "seed": seed, "records": r.records, "rows": r.examples,
            "trainable": r.trainable, "step_s": round(r.step_s, 3), "memory_mb": round(r.memory_bytes / 2**20),
            "bleu": round(m.get("bleu", float("nan")), 1), "rougeL": round(m.get("rougeL", float("nan")), 1),
            "chrf": round(m.get("chrf", float("nan")), 1), "loss": round(r.loss, 3)}  # fmt: skip


def markdown(rows: list[dict[str, object]]) -> str:
    return markdown_table(["method", "records (rows)", "trainable", "s/step", "memory MB", "BLEU", "ROUGE-L", "chrF"],
                          [(r["method"], f"{r['records']} ({r['rows']})", f"{r['trainable']:,}", r["step_s"],
                            r["memory_mb"], r["bleu"], r["rougeL"], r["chrf"]) for r in rows])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=["cpu", "full"], default="cpu")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, help="per row (default: 50 on the cpu grid, 250 on the full one)")
    parser.add_argument("--only", action="append", help="run only this part (methods, init, length, defaults)")
    parser.add_argument("--out", default="runs/bench/real_model")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if not E2E.is_file():
        raise SystemExit(f"the E2E dev set is not at {E2E}; see README (Real data) for where it comes from")
    if args.model == "smollm2-135m":
        fetch_model(args.model)
    full = args.grid == "full"
    steps, eval_records = args.steps or (250 if full else 50), 100 if full else 24
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    start = time.perf_counter()
    for part, grid in parts(full).items():
        if args.only and part not in args.only:
            continue
        for seed in sorted({s for s, _ in grid}):
            methods = [m for s, m in grid if s == seed]

            def keep(result: Result, part: str = part, seed: int = seed) -> None:
                rows.append(row(part, seed, result))
                print(f"[{time.perf_counter() - start:6.0f} s] {part}: {markdown(rows[-1:]).splitlines()[-1]}",
                      flush=True)  # fmt: skip
                (out / "real_model.json").write_text(json.dumps(rows, indent=1) + "\n")

            compare(config(args.model, steps, eval_records, seed), methods, on_result=keep)
    command = "python bench/real_model.py " + " ".join(
        [f"--grid {args.grid}"] + ([f"--steps {args.steps}"] if args.steps else [])
        + [f"--only {p}" for p in args.only or []])  # fmt: skip
    text = [f"`{command}`: {args.model}, E2E dev set split by record, {steps} steps of batch 8 a row, "
            f"{eval_records} held-out records scored ({time.perf_counter() - start:.0f} s in all)", ""]  # fmt: skip
    for part in dict.fromkeys(str(r["part"]) for r in rows):
        text += [f"### {part}", "", markdown([r for r in rows if r["part"] == part]), ""]
    (out / "real_model.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
