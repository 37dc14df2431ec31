"""Learning curves: the prefix and its levers against LoRA and full fine-tuning, scored as they train.

    python bench/curves.py [--task e2e|intents] [--steps 150] [--every 50] [--seed 0 ...] [--only ROW ...]
                           [--grid cpu|full] [--out runs/bench/curves]
    python bench/curves.py [--task e2e|intents] --merge A/curves-e2e.json --merge B/curves-e2e.json [--out DIR]

A single score after N steps hides whether a method is still climbing or has levelled off, and whether
it wins per step or per second. This trains every row on SmolLM2-135M with the same batches, evaluates
every ``--every`` steps on the same held-out rows and draws the score against steps and against seconds
of training, one line per row (mean over the seeds given). Tasks:

  e2e      the E2E dev set split by record; 24 held-out records generated, each scored once against all of
           its references (BLEU)
  intents  BANKING77 (``../shared/data/banking77/train.csv``) as label words: 64 held-out questions, each
           answered by the likeliest of the 77 intent names (accuracy)

Rows:

  defaults     the workbench's prefix: --init auto (matched on SmolLM2), lr 1e-1 (since 2026-12-03)
  random       PEFT's start, N(0, 1), at lr 3e-2 (--init random; the default start until 2026-12-03)
  matched      a random start at each layer's own key/value scale (--init matched) at lr 3e-2: the default
               until 2026-12-03; the rows below are at lr 3e-2 too, as measured then
  example      the keys/values of a training row (--init example)
  text         the keys/values of task words (e2e: --init text:"describe the restaurant record in one sentence :")
  matched-1e-2 the matched start at lr 1e-2
  mlp          the paper's reparametrization (512-wide MLP, random start) at lr 1e-3
  dropout      the matched start with prefix dropout 0.1 (--prefix-dropout; PEFT has none)
  warmup-30    the matched start with 30 steps of warmup instead of 10; warmup-0: none
  length-32    the matched start with 32 virtual tokens instead of 10
  lora         LoRA r=8 on every linear layer, lr 1e-3
  full         full fine-tuning, lr 1e-4

On two CPU cores an E2E row of 150 steps with 3 evaluations takes ~9 minutes; ``--grid full`` (a GPU)
trains 1,000 steps a row and scores 100 records (256 questions). Writes ``curves-TASK.json`` (every point),
``curves-TASK.md`` (the table) and ``curves-TASK.html`` (the figure). ``--merge`` trains nothing and
draws those two from the points of earlier runs (other seeds or rows, run one at a time).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import time
import warnings
from pathlib import Path

from _measure import DATA, E2E, markdown_table
from real_model import INIT_TEXT
from real_model import config as e2e_config

from workbench import RunConfig
from workbench.comparison import Method, Result, compare
from workbench.models import fetch_model
from workbench.plots import curves_figure

ROWS = {
    "defaults": Method("prefix (defaults: auto start, lr 1e-1)"),
    "random": Method("prefix, random start", init="random", lr=3e-2),
    "matched": Method("prefix, matched start, lr 3e-2", init="matched", lr=3e-2),
    "lora": Method("LoRA r=8", kind="lora", lr=1e-3),
    "full": Method("full fine-tuning", kind="full", lr=1e-4),
    "text": Method("prefix, text start", init="text", init_text=INIT_TEXT, lr=3e-2),
    "example": Method("prefix, training-row start", init="example", lr=3e-2),
    "matched-1e-2": Method("prefix, matched start, lr 1e-2", init="matched", lr=1e-2),
    "mlp": Method("prefix + MLP 512, lr 1e-3", projection=True, lr=1e-3),
    "dropout": Method("prefix, dropout 0.1", init="matched", dropout=0.1, lr=3e-2),
    "warmup-30": Method("prefix, warmup 30 steps", init="matched", warmup_steps=30, lr=3e-2),
    "warmup-0": Method("prefix, no warmup", init="matched", warmup_steps=0, lr=3e-2),
    "length-32": Method("prefix of 32, matched start", length=32, init="matched", lr=3e-2),
}


BANKING77 = DATA / "banking77" / "train.csv"


def intents_config(model: str, steps: int, scored: int, seed: int) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name, cfg.data.name, cfg.data.max_length = model, str(BANKING77), 64
    cfg.data.max_eval_examples = cfg.train.eval_generate = scored  # every scored question is ranked
    cfg.train.steps, cfg.train.batch_size, cfg.train.seed = steps, 8, seed
    return cfg.validate()


# A text start's words for each task.
TEXTS = {"e2e": INIT_TEXT, "intents": "name the intent of the banking question :"}
# task: (its data file, the run config, held-out rows scored on the cpu grid and on the full one, the metric)
TASKS = {"e2e": (E2E, e2e_config, (24, 100), "bleu"), "intents": (BANKING77, intents_config, (64, 256), "accuracy")}


def point_rows(seed: int, result: Result) -> list[dict[str, object]]:
    return [{"method": result.method.label, "seed": seed, "step": p.step, "seconds": round(p.seconds, 1),
             "loss": round(p.loss, 4), "value": round(p.value, 4), "s_per_step": round(result.step_s, 3)}
            for p in result.curve]  # fmt: skip


def _mean_sd(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return f"{finite[0]:.1f}" if finite else "–"
    return f"{statistics.mean(finite):.1f} ± {statistics.stdev(finite):.1f}"


def table(points: list[dict[str, object]], metric: str) -> str:
    """One line per row: the metric at each evaluated step (mean ± sd over seeds), seconds a step, seeds."""
    methods = list(dict.fromkeys(str(p["method"]) for p in points))
    steps = sorted({int(p["step"]) for p in points})  # type: ignore[call-overload]
    lines = []
    for method in methods:
        mine = [p for p in points if p["method"] == method]
        scale = 100 if metric == "accuracy" else 1  # accuracy in %
        cells = [_mean_sd([scale * float(p["value"]) for p in mine if p["step"] == s]) for s in steps]  # type: ignore[arg-type]
        step_s = statistics.mean(float(p["s_per_step"]) for p in mine)  # type: ignore[arg-type]
        seeds = sorted({int(p["seed"]) for p in mine})  # type: ignore[call-overload]
        lines.append((method, *cells, f"{step_s:.2f}", ", ".join(map(str, seeds))))
    return markdown_table(["row", *(f"{metric} @ {s}" for s in steps), "s/step", "seeds"], lines)


def figure_curves(points: list[dict[str, object]]) -> dict[str, list[object]]:
    """Mean over seeds per row and step, as the figure's points."""
    from workbench.history import CurvePoint

    curves: dict[str, list[object]] = {}
    for method in dict.fromkeys(str(p["method"]) for p in points):
        mine = [p for p in points if p["method"] == method]
        for step in sorted({int(p["step"]) for p in mine}):  # type: ignore[call-overload]
            at = [p for p in mine if p["step"] == step]
            mean = statistics.mean
            curves.setdefault(method, []).append(CurvePoint(
                step, mean(float(p["seconds"]) for p in at), mean(float(p["loss"]) for p in at),  # type: ignore[arg-type]
                mean(float(p["value"]) for p in at)))  # type: ignore[arg-type]  # fmt: skip
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=list(TASKS), default="e2e")
    parser.add_argument("--grid", choices=["cpu", "full"], default="cpu")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, help="per row (default: 150 on the cpu grid, 1000 on the full one)")
    parser.add_argument("--every", type=int, help="steps between evaluations (default: a third of --steps)")
    parser.add_argument("--seed", type=int, action="append", help="repeat for several seeds (default 0)")
    parser.add_argument("--only", action="append", choices=list(ROWS), help="run only these rows, in this order")
    parser.add_argument("--out", default="runs/bench/curves")
    parser.add_argument("--merge", action="append", metavar="JSON",
                        help="train nothing: draw the table and figure from these curves-TASK.json files (runs "
                             "of other seeds or rows, side by side)")  # fmt: skip
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    path, make_config, scored, metric = TASKS[args.task]
    if args.merge:
        merged = [p for name in args.merge for p in json.loads(Path(name).read_text())]
        write_outputs(Path(args.out), args.task, metric, merged, f"merged from {', '.join(args.merge)}",
                      f"{args.model} on {args.task}: {metric} as it trains")  # fmt: skip
        return
    if not path.is_file():
        raise SystemExit(f"{path} is not there; see README (Real data) for where it comes from")
    if args.model == "smollm2-135m":
        fetch_model(args.model)
    full = args.grid == "full"
    steps = args.steps or (1000 if full else 150)
    every, records = args.every or max(1, steps // 3), scored[full]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = [dataclasses.replace(ROWS[name], init_text=TEXTS[args.task] if name == "text" else "")
               for name in args.only or ROWS]  # fmt: skip
    points: list[dict[str, object]] = []
    start = time.perf_counter()
    for seed in args.seed or [0]:

        def keep(result: Result, seed: int = seed) -> None:
            points.extend(point_rows(seed, result))
            final = result.curve[-1] if result.curve else None
            print(f"[{time.perf_counter() - start:6.0f} s] seed {seed} {result.method.label}: "
                  + ", ".join(f"{p.step}: {p.value * (100 if metric == 'accuracy' else 1):.1f}" for p in result.curve)
                  + (f" (loss {final.loss:.3f}, {result.step_s:.2f} s/step)" if final else ""), flush=True)  # fmt: skip
            (out / f"curves-{args.task}.json").write_text(json.dumps(points, indent=1) + "\n")

        compare(make_config(args.model, steps, records, seed), methods, on_result=keep, eval_every=every)
    command = "python bench/curves.py " + " ".join(
        [f"--task {args.task}", f"--grid {args.grid}", f"--steps {steps}", f"--every {every}"]
        + [f"--seed {s}" for s in args.seed or []] + [f"--only {r}" for r in args.only or []])  # fmt: skip
    heading = (f"`{command}`: {args.model}, {args.task}, batch 8, {records} held-out rows or records scored every "
               f"{every} steps ({time.perf_counter() - start:.0f} s in all)")  # fmt: skip
    write_outputs(out, args.task, metric, points, heading, f"{args.model} on {args.task}: {metric} as it trains")


def write_outputs(out: Path, task: str, metric: str, points: list[dict[str, object]], heading: str,
                  title: str) -> None:  # fmt: skip
    """curves-TASK.md (the table under ``heading``) and curves-TASK.html (the figure); the table printed too."""
    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join([heading, "", table(points, metric), ""])
    (out / f"curves-{task}.md").write_text(text)
    curves_figure(figure_curves(points), metric, title=title).write_html(out / f"curves-{task}.html",
                                                                         include_plotlyjs="cdn")  # fmt: skip
    print(text)


if __name__ == "__main__":
    main()
