"""How a prefix-tuning step's cost grows with prefix length and sequence length (CPU).

    python bench/cost_scaling.py [--batch 4] [--repeats 3] [--html runs/bench/cost_scaling.html]

A random-init GPT-2 (4 layers, width 256, 1024 positions) built from a config, with a
prefix of length P = 1 … 200 on batches of S = 32 … 512 random tokens. Each cell is one
forward + backward + AdamW step: the median wall time over ``--repeats`` steps, and the
memory accounted tensor by tensor (bench/_measure.py). Prints two tables and writes a
plotly figure; the last line is the cost of the longest prefix relative to the shortest.
Every real token attends to all P prefix slots at every layer, so the extra work is about
P / (P + S/2) of attention; at short sequences a long prefix dominates, at long ones it fades.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import plotly.graph_objects as go
import torch
from _measure import gpt2_dir, median_seconds, train_step
from plotly.subplots import make_subplots

from workbench.config import ModelChoice, PrefixSettings
from workbench.memory import MB, step_memory
from workbench.models import load_model
from workbench.prefix import attach_prefix

PREFIXES = (1, 10, 50, 100, 200)
SEQUENCES = (32, 128, 256, 512)


def _cell(model_dir: str, prefix: int, seq: int, batch: int, repeats: int) -> tuple[float, float]:
    """(seconds per step, accounted MB) for one prefix length and sequence length."""
    loaded = load_model(ModelChoice(name=model_dir), "text")
    model = attach_prefix(loaded, PrefixSettings(length=prefix), seed=0)
    model.train()
    gen = torch.Generator().manual_seed(seq)
    ids = torch.randint(4, len(loaded.tokenizer), (batch, seq), generator=gen)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    seconds = median_seconds(lambda: train_step(model, opt, inputs), repeats)
    return seconds, step_memory(model, opt, inputs).total / MB


def _table(title: str, values: dict[tuple[int, int], float], fmt: str) -> str:
    lines = [f"{title:<18}" + "".join(f"{f'S={s}':>10}" for s in SEQUENCES)]
    for p in PREFIXES:
        lines.append(f"{f'P={p}':<18}" + "".join(f"{values[p, s]:>10{fmt}}" for s in SEQUENCES))
    return "\n".join(lines)


def _figure(times: dict[tuple[int, int], float], memory: dict[tuple[int, int], float]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("step time (ms)", "memory per step (MB, accounted)"))
    for s in SEQUENCES:
        for col, values in ((1, {k: v * 1e3 for k, v in times.items()}), (2, memory)):
            fig.add_trace(go.Scatter(x=list(PREFIXES), y=[values[p, s] for p in PREFIXES], mode="lines+markers",
                                     name=f"sequence {s}", legendgroup=str(s), showlegend=col == 1),
                          row=1, col=col)  # fmt: skip
    fig.update_xaxes(title_text="prefix length", type="log")
    fig.update_yaxes(type="log")
    fig.update_layout(title="Prefix-tuning step cost on CPU (GPT-2 4x256)", height=420, width=980)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--html", type=Path, default=Path("runs/bench/cost_scaling.html"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model_dir = gpt2_dir(n_embd=256, n_layer=4, n_head=4, n_positions=1024)
    times, memory = {}, {}
    for s in SEQUENCES:
        for p in PREFIXES:
            times[p, s], memory[p, s] = _cell(model_dir, p, s, args.batch, args.repeats)
    print(f"GPT-2 4 layers x 256, batch {args.batch}, one forward + backward + AdamW step")
    print(_table("step time (ms)", {k: v * 1e3 for k, v in times.items()}, ".1f"))
    print(_table("memory (MB)", memory, ".1f"))
    args.html.parent.mkdir(parents=True, exist_ok=True)
    _figure(times, memory).write_html(args.html, include_plotlyjs="cdn")
    print(f"figure: {args.html}")
    lo, hi, s0, s1 = PREFIXES[0], PREFIXES[-1], SEQUENCES[0], SEQUENCES[-1]
    print(f"prefix {hi} / prefix {lo}: step time {times[hi, s0] / times[lo, s0]:.2f}x at sequence {s0}, "
          f"{times[hi, s1] / times[lo, s1]:.2f}x at {s1}; memory {memory[hi, s0] / memory[lo, s0]:.2f}x, "
          f"{memory[hi, s1] / memory[lo, s1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
