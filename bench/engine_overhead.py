"""Engine overhead: the workbench's Trainer vs a bare PyTorch + PEFT loop, same everything.

    python bench/engine_overhead.py [--model tiny-gpt2] [--steps 60] [--repeats 3] [--big]

Both sides train the same prefix (same seed, batches, optimizer, schedule, clipping and steps)
on the same frozen model; the bare loop has no callbacks, history, events or metric reads.
``--big`` adds a ~20M-parameter GPT-2 built from a config (no download). Runs alternate so
machine drift hits both; the ratio printed last is workbench / bare (target <= 1.03).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, get_scheduler

from workbench import Run, RunConfig
from workbench.data import Collator
from workbench.models import word_tokenizer


def _config(model: str, steps: int) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name = model
    cfg.data.max_train_examples, cfg.data.max_eval_examples = 1024, 8
    cfg.train.steps, cfg.train.warmup_steps, cfg.train.eval_every, cfg.train.eval_generate = steps, 5, 0, 0
    cfg.train.device = "cpu"
    return cfg


def workbench_run(cfg: RunConfig) -> float:
    run = Run.create(cfg)
    _ = run.splits  # encode outside the timed region, as the bare loop does
    start = time.perf_counter()
    run.train(callbacks=[lambda event: None])
    return time.perf_counter() - start


def bare_run(cfg: RunConfig) -> float:
    """The same training written as a plain loop over the same batches."""
    run = Run.create(cfg)  # same model, data, prefix init (seeded)
    train, _ = run.splits
    model = run.model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    sched = get_scheduler(cfg.train.schedule, opt, num_warmup_steps=cfg.train.warmup_steps,
                          num_training_steps=cfg.train.steps)  # fmt: skip
    collate, bs = Collator(run.tokenizer.pad_token_id), cfg.train.batch_size
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(cfg.train.seed * 1_000_003)).tolist()
    model.train()
    start = time.perf_counter()
    for step in range(cfg.train.steps):
        rows = [train.features[i] for i in order[step * bs : (step + 1) * bs]]
        loss = model(**collate(rows)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.train.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    return time.perf_counter() - start


def big_model_dir() -> str:
    """A ~20M-parameter GPT-2 (8 layers, width 448) with the toy tokenizer, saved to a temp dir."""
    out = Path(tempfile.mkdtemp(prefix="gpt2-20m-"))
    tok = word_tokenizer()
    ids = {"pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id, "bos_token_id": tok.bos_token_id}
    config = AutoConfig.for_model("gpt2", n_embd=448, n_layer=8, n_head=8, n_positions=512, vocab_size=len(tok), **ids)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-gpt2")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also a ~20M-parameter GPT-2 from a config")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    models = [args.model] + ([big_model_dir()] if args.big else [])
    ratios = []
    for model in models:
        cfg = _config(model, args.steps)
        bare_run(cfg)  # warm-up: caches, allocator, kernels
        times: dict[str, list[float]] = {"bare": [], "workbench": []}
        for _ in range(args.repeats):
            times["bare"].append(bare_run(cfg))
            times["workbench"].append(workbench_run(cfg))
        med = {k: statistics.median(v) for k, v in times.items()}
        n_params = sum(p.numel() for p in Run.create(cfg).model.get_base_model().parameters())
        ratio = med["workbench"] / med["bare"]
        ratios.append(ratio)
        label = "gpt2-20m" if model != args.model else model
        print(f"{label:<10} {n_params / 1e6:6.1f}M params, {args.steps} steps x batch {cfg.train.batch_size}: "
              f"bare {med['bare']:.2f} s, workbench {med['workbench']:.2f} s, ratio {ratio:.3f}")  # fmt: skip
    print(f"engine overhead (workbench / bare, worst model): {max(ratios):.3f}x")


if __name__ == "__main__":
    main()
