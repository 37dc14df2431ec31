"""Pretrain ``tiny-demo``, the shipped demo model, from scratch on the toy-world corpus.

    python -m workbench.demo.pretrain --out workbench/demo/weights    # ~40 min on 2 CPU cores
    python -m workbench.demo.pretrain --out /tmp/demo --steps 300       # a quick try

A word-level GPT-2 (4 layers, 4 heads, width 128: about 0.8M parameters) learns the
instruction-marked tasks of :mod:`.corpus` until it does them almost perfectly when
asked (``describe :`` → every slot of the record in a sentence). Each sequence starts
at a random position offset, because a prefix of length P moves the real tokens of
an absolute-position model to positions P, P+1, …; the demo must work for any
reasonable prefix length. At the end it measures what the shipped model can and
cannot do (instructed vs bare prompts) and writes the model directory with
``save_pretrained`` plus ``pretrain.json`` (settings and those figures). This is a
script for making the model once; it is not the prefix-tuning trainer.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import GPT2Config, GPT2LMHeadModel

from ..data import toy
from ..generate import generate_texts
from ..metrics import parse_label, text_metrics
from ..models.builtin import word_tokenizer
from .corpus import corpus_lines, demo_vocabulary

__all__ = ["ARCHITECTURE", "evaluate_demo", "main"]

ARCHITECTURE = {"n_embd": 128, "n_layer": 4, "n_head": 4, "n_inner": 512, "n_positions": 256}
_MAX_OFFSET = 96  # position offsets seen in pretraining: prefixes up to this length keep positions familiar


def _encode(lines: list[str], tok, device: torch.device) -> torch.Tensor:
    """[N, L] token ids, each line followed by </s>, right-padded with <pad>."""
    ids = [[*seq, tok.eos_token_id] for seq in tok(lines, add_special_tokens=False)["input_ids"]]
    out = torch.full((len(ids), max(map(len, ids))), tok.pad_token_id, dtype=torch.long)
    for i, seq in enumerate(ids):
        out[i, : len(seq)] = torch.tensor(seq)
    return out.to(device)


def evaluate_demo(model, tok, n: int = 200, sentiment: bool = True) -> dict[str, float]:
    """What the model does with and without the instruction, on the built-in validation rows."""
    rows = toy.text_examples(n, seed=1_000_003)
    reviews = toy.sentiment_examples(n, seed=1_000_003)
    sources = [r["source"] for r in rows]
    refs = [r["target"] for r in rows]
    out: dict[str, float] = {}
    for name, prompts in (("describe", [f"describe : {s}" for s in sources]), ("bare", sources)):
        preds = generate_texts(model, tok, prompts, objective="causal-lm", max_new_tokens=48, batch_size=100)
        metrics = text_metrics(preds, refs, sources)
        out[f"{name}_slot_coverage"] = metrics["slot_coverage"]
        out[f"{name}_exact_match"] = metrics["exact_match"]
    if not sentiment:
        return out
    texts = [str(r["text"]) for r in reviews]
    for name, prompts in (("sentiment", [f"sentiment : {t}" for t in texts]), ("bare_sentiment", texts)):
        preds = generate_texts(model, tok, prompts, objective="causal-lm", max_new_tokens=3, batch_size=100)
        labels = [parse_label(p, toy.SENTIMENT_LABELS) for p in preds]
        out[f"{name}_accuracy"] = sum(p == r["label"] for p, r in zip(labels, reviews)) / n
    return out


def _spread(model: GPT2LMHeadModel, tok: Any, words: list[str]) -> None:
    """Push the (tied) embeddings of ``words`` apart, keeping their mean.

    Words that sit in exactly the same contexts (cheap / moderate / expensive only ever
    follow ``priceRange [`` or ``Prices are``) get the same gradients until the model has
    learnt to copy them, so their embeddings keep only the small random differences of
    initialisation (13–18% apart in the first stages' model, against ~100% for foods,
    which articles like "an Italian" told apart). The model then read every price alike
    and guessed it at chance. Scaling each word's deviation from the group mean up to
    the rows' own norm lets the copying that works for other values work for these.
    """
    ids = tok.convert_tokens_to_ids(words)
    if tok.unk_token_id in ids:
        raise SystemExit(f"--spread: not every word is in the vocabulary: {words}")
    with torch.no_grad():
        rows = model.transformer.wte.weight[ids]
        mean = rows.mean(0)
        deviation = rows - mean
        scale = rows.norm(dim=1).mean() / deviation.norm(dim=1).mean()
        model.transformer.wte.weight[ids] = mean + deviation * scale


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--lines", type=int, default=200_000, help="corpus size (lines)")
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--init-from", type=Path, help="continue from a model directory this script wrote")
    parser.add_argument("--spread", default="", help="comma-separated words whose embeddings to push apart "
                        "before training (see _spread), e.g. cheap,moderate,expensive")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = torch.device(args.device)
    tok = word_tokenizer("plain", texts=demo_vocabulary())
    config = GPT2Config(
        vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, **ARCHITECTURE,
    )  # fmt: skip
    if args.init_from:  # a second stage: same architecture and tokenizer, more steps
        model = GPT2LMHeadModel.from_pretrained(args.init_from).to(device)
        tok = type(tok).from_pretrained(args.init_from)
        if args.spread:
            _spread(model, tok, args.spread.split(","))
    else:
        model = GPT2LMHeadModel(config).to(device)
    model.generation_config.pad_token_id = tok.pad_token_id
    data = _encode(corpus_lines(args.lines, seed=args.seed), tok, device)
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, vocabulary {len(tok)}, "
          f"corpus {tuple(data.shape)} on {device}")  # fmt: skip

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 40)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps)))
    )
    on_cuda = device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_cuda)
    start, losses = time.perf_counter(), []
    model.train()
    for step in (bar := tqdm(range(args.steps), desc="pretrain tiny-demo")):
        batch = data[torch.randint(len(data), (args.batch,), device=device)]
        width = int((batch != tok.pad_token_id).sum(1).max())
        batch = batch[:, :width]
        # Random start positions (30% at 0, where bare prompts and text-init prefixes sit).
        offsets = torch.tensor([0 if rng.random() < 0.3 else rng.randrange(_MAX_OFFSET) for _ in batch], device=device)
        positions = torch.arange(width, device=device) + offsets[:, None]
        labels = batch.masked_fill(batch == tok.pad_token_id, -100)
        with autocast:
            loss = model(input_ids=batch, attention_mask=(batch != tok.pad_token_id).long(),
                         position_ids=positions, labels=labels).loss  # fmt: skip
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == args.steps - 1:
            losses.append(round(float(loss), 4))
            bar.set_postfix(loss=losses[-1])
        if args.eval_every and step % args.eval_every == args.eval_every - 1:
            model.eval()
            tqdm.write(f"step {step + 1}: {evaluate_demo(model, tok, n=50, sentiment=False)}")
            model.train()
    minutes = (time.perf_counter() - start) / 60
    model.eval()
    figures = evaluate_demo(model, tok)
    print(json.dumps(figures, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    model.to("cpu").save_pretrained(args.out)
    tok.save_pretrained(args.out)
    earlier = []
    if args.init_from:
        prev = json.loads((args.init_from / "pretrain.json").read_text())
        earlier = prev.get("stages", [prev])
    stage = {"steps": args.steps, "spread": args.spread, "batch": args.batch, "lr": args.lr,
              "lines": args.lines, "seed": args.seed, "device": str(device), "minutes": round(minutes, 2),
              "torch": torch.__version__, "loss_every_50": losses, "figures": figures}  # fmt: skip
    record = {"architecture": ARCHITECTURE, "stages": [*earlier, stage], "figures": figures}
    (args.out / "pretrain.json").write_text(json.dumps(record, indent=1) + "\n")
    return figures


if __name__ == "__main__":
    main()
