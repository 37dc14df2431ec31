"""Engine overhead: the workbench's Trainer vs a bare PyTorch + PEFT loop, same everything.

    python bench/engine_overhead.py [--model tiny-demo] [--steps 60] [--repeats 5] [--big]

Both sides train the same prefix (same seed, batches, optimizer, schedule, clipping and steps)
on the same frozen model; the bare loop has no callbacks, history, events or metric reads.
``--big`` adds a ~20M-parameter GPT-2 built from a config (no download). Runs alternate so
machine drift hits both; the ratio printed last is workbench / bare (target <= 1.03).

A second, paired measure trains one model in alternating chunks of 5 steps — the Trainer's ``fit``, then
a bare loop replaying the same batches on the same tensors — and compares only the steps' time. It is
blind to how fast a freshly loaded model happens to sit in memory, which moves separate runs on this
machine by 10-20 %, so it is the steadier figure for what the engine adds per step.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import warnings

import torch
from _measure import bare_loop_seconds, bench_config, first_epoch_order, gpt2_dir

from workbench import Run, RunConfig
from workbench.training_thread import on_training_thread


def workbench_run(cfg: RunConfig, *, steps_only: bool = False) -> float:
    """Seconds of ``run.train()``; ``steps_only``: up to the last step, without the final validation loss (on a
    135M model a few seconds that the bare loop does not spend)."""
    run = Run.create(cfg)
    _ = run.splits  # encode outside the timed region, as the bare loop does
    start = time.perf_counter()
    history = run.train(callbacks=[lambda event: None])
    return history.steps[-1].elapsed_s if steps_only else time.perf_counter() - start


def bare_run(cfg: RunConfig) -> float:
    """The same training written as a plain loop over the same batches."""
    return bare_loop_seconds(cfg)[0]


def paired_seconds(cfg: RunConfig, chunks: int, chunk: int = 5) -> tuple[float, float]:
    """(workbench, bare) seconds of ``chunks`` alternating chunks of ``chunk`` steps on one model (see above)."""
    from workbench.data import Collator

    run = Run.create(cfg)
    trainer, model, params = run.trainer, run.model, run.trainer.params
    optimizer = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    collate, bs, feats = Collator(run.tokenizer.pad_token_id), cfg.train.batch_size, run.splits[0].features
    order = first_epoch_order(len(feats), cfg.train.seed)
    times = {"workbench": 0.0, "bare": 0.0}
    for k in range(chunks + 1):  # the first chunk warms both up and is not counted
        trainer.settings.steps = (k + 1) * chunk
        history = trainer.fit()
        # The steps of this fit alone: from the previous fit's end (its final evaluation included) to the last step.
        steps_s = history.steps[-1].elapsed_s - (history.ends[-2].elapsed_s if k else 0.0)
        model.train()
        start = time.perf_counter()
        for step in range(k * chunk, (k + 1) * chunk):  # the batches the Trainer just trained on (first epoch)
            batch = collate([feats[i] for i in order[step * bs : (step + 1) * bs]])
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.train.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if k:
            times["workbench"] += steps_s
            times["bare"] += time.perf_counter() - start
    return times["workbench"], times["bare"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-demo")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="also a ~20M-parameter GPT-2 from a config")
    parser.add_argument(
        "--steps-only",
        action="store_true",
        help="time the workbench to its last step, leaving out the final validation loss",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    # Both sides on the thread every run trains on (Run.train hands its work there): one OpenMP pool for both.
    on_training_thread(lambda: _measure(args), threading.Event())


def _measure(args: argparse.Namespace) -> None:
    models = [args.model] + ([gpt2_dir()] if args.big else [])
    ratios = []
    for model in models:
        cfg = bench_config(model, args.steps)
        bare_run(cfg)  # warm-up: caches, allocator, kernels
        times: dict[str, list[float]] = {"bare": [], "workbench": []}
        for _ in range(args.repeats):
            times["bare"].append(bare_run(cfg))
            times["workbench"].append(workbench_run(cfg, steps_only=args.steps_only))
        med = {k: statistics.median(v) for k, v in times.items()}
        n_params = sum(p.numel() for p in Run.create(cfg).model.get_base_model().parameters())
        ratio = med["workbench"] / med["bare"]
        # This machine's speed drifts by 10-30 % between identical runs; noise only adds time, so the ratio of
        # the fastest runs is the steadier estimate of what the engine adds.
        best = min(times["workbench"]) / min(times["bare"])
        ratios.append(ratio)
        label = "gpt2-20m" if model != args.model else model
        print(f"{label:<10} {n_params / 1e6:6.1f}M params, {args.steps} steps x batch {cfg.train.batch_size}: "
              f"bare {med['bare']:.2f} s, workbench {med['workbench']:.2f} s, ratio {ratio:.3f} "
              f"(fastest runs: {best:.3f})")  # fmt: skip
        wb_s, bare_s = paired_seconds(cfg, chunks=max(args.steps // 5, 2))
        print(f"{label:<10} paired, one model, alternating chunks of 5 steps: workbench / bare {wb_s / bare_s:.3f}")
    print(f"engine overhead (workbench / bare, worst model): {max(ratios):.3f}x")


if __name__ == "__main__":
    main()
