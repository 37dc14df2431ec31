"""What the bench/ scripts share: models built from a config, the bare training loop, a step's memory.

Not part of the package and not a benchmark itself. A step's memory is accounted by
the package's own :func:`workbench.memory.step_memory`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, get_scheduler

from workbench import Run, RunConfig
from workbench.data import Collator, EncodedSplit
from workbench.models import word_tokenizer


def gpt2_dir(n_embd: int = 448, n_layer: int = 8, n_head: int = 8, n_positions: int = 512) -> str:
    """A random-init GPT-2 with the toy word tokenizer, saved to a temp dir (no download).

    The defaults give the ~20M-parameter model the engine benchmarks use.
    """
    return model_dir("gpt2", n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=n_positions)


def model_dir(model_type: str, **config: object) -> str:
    """A random-init model of ``model_type`` built from ``config`` with the toy word tokenizer (no download).

    ``vocab_size`` defaults to the tokenizer's; a larger one keeps a real model's embedding and head cost.
    """
    tok = word_tokenizer()
    out = Path(tempfile.mkdtemp(prefix=f"{model_type}-"))
    ids = {"pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id, "bos_token_id": tok.bos_token_id}
    config = {"vocab_size": len(tok), **ids, **config}
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **config)).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


# The real E2E records beside the project: what a real model is timed on (toy rows are a few words).
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # the real data beside the project
E2E = DATA / "e2e" / "devset.csv"


def bench_config(model: str, steps: int) -> RunConfig:
    """Training settings for timing: toy-e2e (a real model: E2E records, when beside the project), CPU, no
    evaluation until the end (then a short one)."""
    cfg = RunConfig()
    cfg.model.name = model
    if not model.startswith("tiny-") and not Path(model).is_dir() and E2E.is_file():
        cfg.data.name, cfg.data.columns, cfg.data.max_length = str(E2E), {"source": "mr", "target": "ref"}, 128
    cfg.data.max_train_examples, cfg.data.max_eval_examples = 1024, 8
    cfg.train.steps, cfg.train.warmup_steps, cfg.train.eval_every, cfg.train.eval_generate = steps, 2, 0, 0
    cfg.train.device = "cpu"
    return cfg


def first_epoch_order(n_rows: int, seed: int) -> list[int]:
    """The row order of the Trainer's first epoch (``Trainer._batches``), for a loop that feeds the same batches."""
    return torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed * 1_000_003)).tolist()


def bare_loop_seconds(cfg: RunConfig) -> tuple[float, EncodedSplit]:
    """``cfg``'s training written as a plain loop over the Trainer's batches; seconds and the train split.

    Same model, prefix init, optimizer, schedule and clipping; no callbacks, history or loss reads.
    On CUDA: autocast (bf16, else fp16) and pinned non-blocking copies, as the Trainer does.
    """
    run = Run.create(cfg)  # same model, data, prefix init (seeded)
    train, _ = run.splits
    device = torch.device(cfg.train.device)
    cuda = device.type == "cuda"
    model = run.model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    sched = get_scheduler(cfg.train.schedule, opt, num_warmup_steps=cfg.train.warmup(),
                          num_training_steps=cfg.train.steps)  # fmt: skip
    collate, bs = Collator(run.tokenizer.pad_token_id), cfg.train.batch_size
    order = first_epoch_order(len(train), cfg.train.seed)
    dtype = torch.bfloat16 if not cuda or torch.cuda.is_bf16_supported() else torch.float16
    model.train()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(cfg.train.steps):
        batch = collate([train.features[i] for i in order[step * bs : (step + 1) * bs]])
        if cuda:
            batch = {k: v.pin_memory().to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(device.type, dtype=dtype, enabled=cuda):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.train.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start, train


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: dict) -> None:
    """forward, backward, AdamW step: what every training step does."""
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def median_seconds(fn: Callable[[], None], repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: the header, its rule, one line per row (cells as they print)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])
