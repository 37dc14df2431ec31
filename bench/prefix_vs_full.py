"""Prefix tuning vs full fine-tuning: step time and memory on the same batches.

    python bench/prefix_vs_full.py [--steps 30] [--repeats 2] [--no-big] [--model smollm2-135m]

Both sides are the workbench's own Trainer on the same model, data order and seed:
one with a prefix (length 10) on the frozen base, one with every weight trainable.
Step time is the median gap between consecutive step events (no evaluation inside);
memory is accounted over one real step (bench/_measure.py: weights, saved activations,
gradients, optimizer state), and the script checks that no frozen weight got a gradient.
Models: tiny-demo and a ~20M-parameter GPT-2 built from a config, or ``--model`` (a real one:
``smollm2-135m``, on the E2E dev set's records when it is beside the project). The ratios printed
last are prefix / full (targets: step time <= 0.7, memory <= 0.6).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import statistics
import warnings

from _measure import bench_config, gpt2_dir

from workbench import RunConfig
from workbench.data import Collator, encode_splits, load_task_data
from workbench.memory import MB, StepMemory, step_memory
from workbench.models import load_model
from workbench.prefix import attach_prefix
from workbench.train import Trainer


def _trainer(cfg: RunConfig, side: str) -> Trainer:
    data = load_task_data(cfg.data, seed=cfg.train.seed)
    loaded = load_model(cfg.model, data.kind)
    if side == "prefix":
        model = attach_prefix(loaded, cfg.prefix, seed=cfg.train.seed)
    else:
        model = loaded.model.requires_grad_(True)
    splits = encode_splits(data, loaded.tokenizer, loaded.objective, cfg.data)
    return Trainer(model, loaded.tokenizer, loaded.objective, data, *splits, copy.deepcopy(cfg.train))


def _step_seconds(trainer: Trainer) -> float:
    """Median seconds per optimizer step of one fit (the first three steps left out as warm-up)."""
    steps = trainer.fit().steps
    gaps = [b.elapsed_s - a.elapsed_s for a, b in itertools.pairwise(steps)]
    return statistics.median(gaps[2:])


def _measure(cfg: RunConfig, repeats: int) -> dict[str, tuple[float, StepMemory, int]]:
    out = {}
    times: dict[str, list[float]] = {"prefix": [], "full": []}
    trainers = {}
    for _ in range(repeats):  # alternate so machine drift hits both sides
        for side in times:
            trainers[side] = _trainer(cfg, side)
            times[side].append(_step_seconds(trainers[side]))
    for side, trainer in trainers.items():
        batch = Collator(trainer.tokenizer.pad_token_id)(trainer.train_split.features[: cfg.train.batch_size])
        memory = step_memory(trainer.model, trainer.optimizer, batch)
        if memory.frozen_with_grad:
            raise SystemExit(f"{side}: {memory.frozen_with_grad} frozen parameters kept a gradient")
        out[side] = (statistics.median(times[side]), memory, sum(p.numel() for p in trainer.params))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-big", action="store_true", help="only tiny-demo")
    parser.add_argument("--model", help="measure this model alone (e.g. smollm2-135m)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    models = {"tiny-demo": "tiny-demo"} | ({} if args.no_big else {"gpt2-20m": gpt2_dir()})
    if args.model:
        models = {args.model: args.model}
    print(f"{'model':<10} {'side':<7} {'trainable':>10} {'step ms':>8} {'weights':>8} {'activ.':>8} "
          f"{'grads':>8} {'optim.':>8} {'total MB':>9}")  # fmt: skip
    ratios = {}
    for label, model in models.items():
        result = _measure(bench_config(model, args.steps), args.repeats)
        for side, (seconds, m, trainable) in result.items():
            print(f"{label:<10} {side:<7} {trainable:>10,} {seconds * 1e3:>8.1f} {m.weights / MB:>8.2f} "
                  f"{m.activations / MB:>8.2f} {m.gradients / MB:>8.2f} {m.optimizer / MB:>8.2f} "
                  f"{m.total / MB:>9.2f}")  # fmt: skip
        (tp, mp, _), (tf, mf, _) = result["prefix"], result["full"]
        ratios[label] = (tp / tf, mp.total / mf.total)
    for label, (t, m) in ratios.items():
        print(f"{label}: prefix / full step time {t:.2f}x, memory {m:.2f}x")
    worst_t, worst_m = max(t for t, _ in ratios.values()), max(m for _, m in ratios.values())
    print(f"prefix / full fine-tuning (worst model): step time {worst_t:.2f}x, memory {worst_m:.2f}x "
          f"(targets <= 0.70, <= 0.60)")  # fmt: skip


if __name__ == "__main__":
    main()
