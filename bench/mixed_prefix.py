"""Mixed-prefix batch vs one batch per prefix (PEFT adapter switching), greedy, on CPU.

    python bench/mixed_prefix.py [--model tiny-gpt2] [--prefixes 8] [--rows 4] [--repeats 5]

Trains N small prefixes (a few steps each: speed does not depend on quality), then times
the same N x rows prompts two ways in one process: PEFT with one adapter per batch
(``set_adapter`` + ``generate``) and a :class:`workbench.prefix_bank.PrefixBank` serving every row
its own prefix in a single batch. Checks that both give the same outputs; prints the ratio last.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from peft import PeftModel

from workbench import Run, RunConfig
from workbench.data import format_prompt
from workbench.prefix_bank import PrefixBank

PROMPTS = [
    "name[Aromi] food[Italian] area[riverside]",
    "name[Zizzi] eatType[pub]",
    "name[The Golden Curry] eatType[restaurant] near[Cotto] priceRange[cheap]",
    "name[Cotto] area[city centre] familyFriendly[yes]",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-gpt2")
    parser.add_argument("--prefixes", type=int, default=8)
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    workdir = Path(tempfile.mkdtemp(prefix="mixed-bench-"))
    paths = []
    for i in range(args.prefixes):
        cfg = RunConfig()
        cfg.model.name, cfg.prefix.length = args.model, 4 + 2 * (i % 4)  # unequal lengths
        cfg.data.max_train_examples, cfg.data.max_eval_examples = 64, 4
        cfg.train.steps, cfg.train.lr, cfg.train.seed, cfg.train.eval_every, cfg.train.eval_generate = 5, 0.3, i, 0, 0
        cfg.train.warmup_steps = 1
        run = Run.create(cfg)
        run.train()
        paths.append(str(run.export(workdir / f"p{i}")))

    rows = [(PROMPTS[r % len(PROMPTS)], paths[p]) for p in range(args.prefixes) for r in range(args.rows)]

    # PEFT: one base model, every prefix loaded as a named adapter, one batch per prefix.
    first = Run.load(paths[0])
    peft_model: PeftModel = first.model
    for i, path in enumerate(paths[1:], start=1):
        peft_model.load_adapter(str(Path(path) / "adapter"), adapter_name=f"p{i}")
    names = {path: ("default" if i == 0 else f"p{i}") for i, path in enumerate(paths)}
    tok = first.tokenizer
    tok.padding_side = "left"

    def per_prefix() -> list[str]:
        out = []
        for path in paths:
            peft_model.set_adapter(names[path])
            prompts = [format_prompt(p, "->") for p, r in rows if r == path]
            enc = tok(prompts, return_tensors="pt", padding=True)
            with torch.no_grad():
                ids = peft_model.generate(**enc, max_new_tokens=args.max_new_tokens, do_sample=False,
                                          pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)  # fmt: skip
            out += [t.strip() for t in tok.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)]
        return out

    bank = PrefixBank(peft_model.get_base_model(), tok)
    for path in paths:
        bank.add(path, Path(path) / "adapter")

    def mixed() -> list[str]:
        return bank.generate([p for p, _ in rows], [r for _, r in rows], max_new_tokens=args.max_new_tokens)

    assert per_prefix() == mixed(), "mixed batch and per-prefix batches disagree"
    ways = {"per-prefix batches (PEFT set_adapter)": per_prefix, "one mixed batch (PrefixBank)": mixed}
    timings: dict[str, list[float]] = {label: [] for label in ways}
    for _ in range(args.repeats):  # interleaved, so drift hits both alike
        for label, fn in ways.items():
            start = time.perf_counter()
            fn()
            timings[label].append(time.perf_counter() - start)
    print(f"model {args.model}, {args.prefixes} prefixes x {args.rows} rows, {args.max_new_tokens} new tokens, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")  # fmt: skip
    medians = {k: statistics.median(v) for k, v in timings.items()}
    for label, value in medians.items():
        print(f"  {label:<40} {value * 1000:8.1f} ms")
    ratio = medians["per-prefix batches (PEFT set_adapter)"] / medians["one mixed batch (PrefixBank)"]
    print(f"speed-up of the mixed batch: {ratio:.2f}x")


if __name__ == "__main__":
    main()
