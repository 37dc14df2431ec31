"""The seeds' other tasks on a real encoder: NER on WNUT-17 and intents on BANKING77, MiniLM-L6, four methods.

    python bench/real_tasks.py [--grid cpu|full] [--task ner|intents] [--steps N ...] [--only prefix|prompt|lora|full]
                               [--out runs/bench/real_tasks]

Seed 003's worked example is NER on a pretrained BERT; seed 004 adds intent classification. This trains
prefix tuning (the workbench defaults), prompt tuning, LoRA r=8 and full fine-tuning side by side on
MiniLM-L6 (``prefix-workbench fetch minilm-l6``), each with a head, on the same batches, and scores them on
the same held-out rows:

  ner      WNUT-17 (``../shared/data/wnut17``): train on all 3,394 sentences or the first 200, score entity F1 on
           all 1,009 dev sentences (the field's mark: 41.9 test F1, the 2017 shared task's best)
  intents  BANKING77 (``../shared/data/banking77/train.csv``): a seeded fifth held out (2,001 questions), train on
           the rest or 10 questions per intent, score accuracy (fine-tuned BERT-base reports ~93 % on its test set)

at two budgets (the CPU grid: 100 and 300 steps of batch 8; the full grid, for a GPU: 300 and 1,000), with
seconds per step and a step's memory, so a method is compared at equal steps and, through s/step, at equal time.
Tables go to stdout and ``real_tasks.md``; every number to ``real_tasks.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd
from _measure import DATA, markdown_table

from workbench import RunConfig
from workbench.comparison import Method, Result, compare
from workbench.models import fetch_model

WNUT17, BANKING77 = DATA / "wnut17", DATA / "banking77" / "train.csv"
# Learning rates by kind on a 22.7M encoder: the prefix at the workbench default; the weights' methods lower.
LR = {"prefix": 3e-2, "prompt": 3e-2, "lora": 1e-3, "full": 1e-4}
METHODS = (("prefix 10", "prefix"), ("prompt tuning 10", "prompt"), ("LoRA r=8", "lora"), ("full fine-tuning", "full"))


ONLY: set[str] = set()  # --only: these kinds of method, none other


def _methods(size: str, examples: int | None) -> list[Method]:
    return [Method(f"{label}, {size}", kind=kind, length=10, lr=LR[kind], examples=examples)
            for label, kind in METHODS if not ONLY or kind in ONLY]  # fmt: skip


Groups = list[tuple[RunConfig, list[Method]]]  # rows trained from one config each


def ner(steps: int, seed: int) -> Groups:
    # train.jsonl + dev.jsonl: the folder's dev set is the validation split, scored whole.
    cfg = _config(str(WNUT17), steps, seed, scored=1009)
    return [(cfg, _methods("all", None) + _methods("200 sentences", 200))]


def intents(steps: int, seed: int) -> Groups:
    rows = pd.read_csv(BANKING77)
    held = rows.sample(frac=0.2, random_state=seed).reset_index(drop=True)
    train = rows.drop(rows.sample(frac=0.2, random_state=seed).index).sample(frac=1.0, random_state=seed)
    # compare() caps rows, not classes: the low-data set (10 questions per intent) is a training set of its own.
    few = train.groupby("label", group_keys=False).head(10)
    return [(_config(frame.reset_index(drop=True), steps, seed, validation=held, scored=len(held)),
             _methods(size, None)) for size, frame in (("all", train), ("10 per intent", few))]  # fmt: skip


def _config(data: object, steps: int, seed: int, *, validation: object = None, scored: int) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name = "minilm-l6"
    cfg.data.name, cfg.data.validation, cfg.data.max_eval_examples = data, validation, scored  # type: ignore[assignment]
    cfg.data.max_length = 64
    cfg.train.steps, cfg.train.batch_size, cfg.train.seed = steps, 8, seed
    return cfg


def row(task: str, steps: int, r: Result) -> dict[str, object]:
    return {"task": task, "method": r.method.label, "steps": steps, "rows": r.examples, "trainable": r.trainable,
            "step_s": round(r.step_s, 3), "memory_mb": round(r.memory_bytes / 2**20), "metric": r.metric,
            "value": round(r.value, 4), "loss": round(r.loss, 3)}  # fmt: skip


def markdown(rows: list[dict[str, object]]) -> str:
    return markdown_table(["method", "steps", "rows", "trainable", "s/step", "memory MB", "score"],
                          [(r["method"], r["steps"], r["rows"], f"{r['trainable']:,}", r["step_s"], r["memory_mb"],
                            f"{r['metric']} {r['value']}") for r in rows])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=["cpu", "full"], default="cpu")
    parser.add_argument("--task", action="append", choices=["ner", "intents"], help="only this task (repeatable)")
    parser.add_argument("--steps", type=int, action="append", help="budgets (default: 100 and 300; full: 300, 1000)")
    parser.add_argument("--only", action="append", choices=[kind for _, kind in METHODS], help="only this method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bench/real_tasks")
    args = parser.parse_args()
    ONLY.update(args.only or [])
    warnings.simplefilter("ignore")
    for path in (WNUT17, BANKING77):
        if not path.exists():
            raise SystemExit(f"{path} is not beside the project (../shared/data); see its README")
    fetch_model("minilm-l6")
    budgets = args.steps or ([300, 1000] if args.grid == "full" else [100, 300])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    start = time.perf_counter()
    for task, make in (("ner", ner), ("intents", intents)):
        if args.task and task not in args.task:
            continue
        for steps in budgets:

            def keep(result: Result, task: str = task, steps: int = steps) -> None:
                rows.append(row(task, steps, result))
                print(f"[{time.perf_counter() - start:6.0f} s] {task}: {markdown(rows[-1:]).splitlines()[-1]}",
                      flush=True)  # fmt: skip
                (out / "real_tasks.json").write_text(json.dumps(rows, indent=1) + "\n")

            for cfg, methods in make(steps, args.seed):
                compare(cfg, methods, on_result=keep)
    command = "python bench/real_tasks.py " + " ".join(
        [f"--grid {args.grid}"]
        + [f"--task {t}" for t in args.task or []]
        + [f"--steps {s}" for s in args.steps or []]
        + [f"--only {k}" for k in args.only or []]
    )
    text = [f"`{command}`: MiniLM-L6, batch 8, seed {args.seed} ({time.perf_counter() - start:.0f} s in all)", ""]
    for task in dict.fromkeys(str(r["task"]) for r in rows):
        text += [f"### {task}", "", markdown([r for r in rows if r["task"] == task]), ""]
    (out / "real_tasks.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
