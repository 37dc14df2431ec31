"""GPU path: tokens/s and model FLOPs utilisation of prefix tuning, workbench vs a bare loop.

    python bench/gpu_path.py [--models gpt2-small,qwen2.5-0.5b] [--steps 40] [--batch-size 16] [--device cuda]

Each model is built from its published configuration with random weights (no download;
real vocabulary sizes, so the embedding and LM head cost what they cost) and read with the
toy word tokenizer. The data are toy-e2e rows joined four at a time (about 150 tokens a
row). Both sides train the same prefix (length 10) on the same batches: the workbench
Trainer (accelerate: bf16 autocast, or fp16 where bf16 is missing; pinned batches; the
loss read at most every 0.25 s) and a bare loop (torch.autocast, pinned batches, no
reads). tokens/s counts the tokens that are not padding. MFU divides the FLOPs a step
needs by the GPU's dense bf16 peak (a table below, by device name): per token about
4 × the non-embedding parameters plus the LM head (forward, and backward to the
activations: a frozen base needs no weight gradients) plus attention's 4 × layers ×
sequence × width. The last line gives workbench / bare throughput (target >= 0.95).
On a CPU (``--device cpu``) it runs in fp32 and prints no MFU: a smoke run of the script.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from _measure import bare_loop_seconds, bench_config, first_epoch_order, model_dir

from workbench import Run, RunConfig
from workbench.data import EncodedSplit
from workbench.data.toy import text_examples

# Published configurations (random weights here): model_type and the fields that set the cost.
MODELS = {
    "gpt2-small": ("gpt2", {"n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "vocab_size": 50257}),
    "qwen2.5-0.5b": ("qwen2", {
        "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
        "num_key_value_heads": 2, "max_position_embeddings": 32768, "rope_theta": 1e6, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True, "vocab_size": 151936}),
}  # fmt: skip
# Dense bf16 peak FLOP/s by a piece of torch.cuda.get_device_name(); the first match wins.
PEAK_BF16 = (("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("A100", 312e12), ("L40S", 362e12),
             ("L4", 121e12), ("A10", 125e12), ("T4", 65e12))  # fmt: skip


def _long_rows(n: int, seed: int = 0) -> str:
    """toy-e2e rows joined four at a time, as a JSONL file the workbench reads as a text task."""
    rows = text_examples(4 * n, seed)
    path = Path(tempfile.mkdtemp(prefix="gpu-path-")) / "rows.jsonl"
    with path.open("w") as fh:
        for i in range(0, len(rows), 4):
            group = rows[i : i + 4]
            fh.write(json.dumps({"source": " ; ".join(r["source"] for r in group),
                                 "target": " ".join(r["target"] for r in group)}) + "\n")  # fmt: skip
    return str(path)


def _config(model: str, data: str, args: argparse.Namespace) -> RunConfig:
    cfg = bench_config(model, args.steps)
    cfg.data.name, cfg.data.max_length, cfg.data.max_train_examples = data, 256, None
    cfg.train.batch_size, cfg.train.device = args.batch_size, args.device
    cfg.prefix.length = 10
    return cfg


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def workbench_seconds(cfg: RunConfig) -> tuple[float, int]:
    run = Run.create(cfg)
    train, _ = run.splits
    _ = run.trainer  # built outside the timed region, as the bare loop's optimizer is
    _sync(cfg.train.device)
    start = time.perf_counter()
    run.train()
    _sync(cfg.train.device)
    return time.perf_counter() - start, _tokens(train, cfg)


def bare_seconds(cfg: RunConfig) -> tuple[float, int]:
    """The same steps as a plain loop: autocast, pinned non-blocking copies, no loss reads."""
    seconds, train = bare_loop_seconds(cfg)
    return seconds, _tokens(train, cfg)


def _tokens(train: EncodedSplit, cfg: RunConfig) -> int:
    """Tokens that are not padding in the run's batches."""
    rows = first_epoch_order(len(train), cfg.train.seed)[: cfg.train.steps * cfg.train.batch_size]
    return sum(len(train.features[i]["input_ids"]) for i in rows)  # unpadded rows; the collator pads


def flops_per_token(model: torch.nn.Module, seq_len: int) -> float:
    """Forward plus backward to the activations (no weight gradients): ~4 FLOPs per weight, and attention."""
    cfg = model.config
    embed = model.get_input_embeddings().weight.numel()
    weights = sum(p.numel() for p in model.parameters()) - embed  # the blocks (and an untied head)
    head = embed if cfg.tie_word_embeddings else 0  # a tied head multiplies by the embedding; an untied one is counted
    layers, width = cfg.num_hidden_layers, cfg.hidden_size
    return 4.0 * (weights + head) + 4.0 * layers * seq_len * width


def _peak(device: str) -> float | None:
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name()
    return next((peak for part, peak in PEAK_BF16 if part in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    data = _long_rows(2 * args.steps * args.batch_size + 64)  # train keeps 90 %: one epoch covers every step
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"{device_name}: prefix 10, batch {args.batch_size}, {args.steps} steps, median of {args.repeats}")
    ratios = []
    for name in args.models.split(","):
        model_type, config = MODELS[name]
        cfg = _config(model_dir(model_type, **config), data, args)
        bare_seconds(cfg)  # warm-up: kernels, allocator
        times: dict[str, list[tuple[float, int]]] = {"bare": [], "workbench": []}
        for _ in range(args.repeats):
            times["bare"].append(bare_seconds(cfg))
            times["workbench"].append(workbench_seconds(cfg))
        tps = {side: statistics.median(tokens / seconds for seconds, tokens in t) for side, t in times.items()}
        run = Run.create(cfg)
        seq = statistics.mean(len(f["input_ids"]) for f in run.splits[0].features)
        flops = flops_per_token(run.model.get_base_model(), int(seq))
        peak = _peak(args.device)
        mfu = {side: f"{tps[side] * flops / peak:.1%}" if peak else "n/a" for side in tps}
        ratios.append(tps["workbench"] / tps["bare"])
        print(f"  {name:<13} bare {tps['bare']:>9,.0f} tok/s (MFU {mfu['bare']}), workbench {tps['workbench']:>9,.0f} "
              f"tok/s (MFU {mfu['workbench']}), ratio {ratios[-1]:.3f}")  # fmt: skip
    print(f"GPU path (workbench / bare tokens/s, worst model): {min(ratios):.3f}x (target >= 0.95)")


if __name__ == "__main__":
    main()
