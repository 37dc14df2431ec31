"""Training from the main thread, then from another (a cell's run.train(), then the panel's Train), and back.

    python bench/thread_order.py [--steps 120] [--repeats 3]

Each order runs in a fresh process: tiny-demo, ``--steps`` steps, no evaluation, the first run a warm-up
in the first place of the order, then the two runs timed. libgomp gives every thread that runs OpenMP work a
pool of its own; before :mod:`workbench.training_thread` a run from a background thread after one from the
main thread paid for two pools on two cores (1.75x measured). The last line gives the worst order's
second run over the best order's (target <= 1.1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

ORDERS = ["main,main", "thread,thread", "main,thread", "thread,main"]

_CHILD = r"""
import json, sys, threading, time, warnings
warnings.simplefilter("ignore")
import workbench as wb

def seconds(where, steps):
    cfg = wb.RunConfig()
    cfg.model.name, cfg.train.steps, cfg.train.eval_every, cfg.train.eval_generate = "tiny-demo", steps, 0, 0
    run = wb.Run.create(cfg)
    _ = run.trainer
    out = {}
    def go():
        start = time.perf_counter()
        run.train()
        out["s"] = time.perf_counter() - start
    if where == "main":
        go()
    else:
        worker = threading.Thread(target=go)
        worker.start()
        worker.join()
    return out["s"]

order, steps = sys.argv[1].split(","), int(sys.argv[2])
seconds(order[0], steps)  # warm-up
print(json.dumps([seconds(where, steps) for where in order]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    second: dict[str, float] = {}
    for order in ORDERS:
        runs = [json.loads(subprocess.run([sys.executable, "-c", _CHILD, order, str(args.steps)], check=True,
                                          capture_output=True, text=True).stdout.strip().splitlines()[-1])
                for _ in range(args.repeats)]  # fmt: skip
        first, then = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        second[order] = then
        print(f"{order:>14}: first {first:.2f} s, second {then:.2f} s (median of {args.repeats} processes)")
    print(f"worst / best second run: {max(second.values()) / min(second.values()):.2f}x (target <= 1.1)")


if __name__ == "__main__":
    main()
