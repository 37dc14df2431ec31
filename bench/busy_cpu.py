"""Training beside a busy process: seconds per step alone and with one competing busy loop, per thread setting.

    python bench/busy_cpu.py [--model minilm-l6] [--steps 40] [--settings fixed,passive,one,workbench]

Each setting trains in a fresh process (OpenMP reads its environment once, at start): the same prefix run —
MiniLM-L6 with a token head on WNUT-17 sentences (``prefix-workbench fetch minilm-l6``), as the issue found
it — for ``--steps`` steps, first alone, then while a busy loop runs in a session of its own (``setsid``:
Linux shares the CPU between sessions first, as with a second notebook kernel or a job started elsewhere).
Settings:

  fixed      PyTorch's threads held at one per core (OMP_NUM_THREADS set, which also keeps the workbench's
             governor out), OpenMP's threads spinning while they wait: how the workbench trained before
  passive    the same with OMP_WAIT_POLICY=PASSIVE (waiting threads sleep)
  one        a single intra-op thread throughout
  workbench  nothing set: the workbench's :class:`~workbench.threads.ThreadGovernor` follows the free cores

Prints the median seconds per step alone (``--repeats`` runs, the settings taking turns) and busy, and the
slowdown, per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CORES = str(len(os.sched_getaffinity(0)))
ENV = {"fixed": {"OMP_NUM_THREADS": CORES}, "passive": {"OMP_NUM_THREADS": CORES, "OMP_WAIT_POLICY": "PASSIVE"},
       "one": {"OMP_NUM_THREADS": "1"}, "workbench": {}}  # fmt: skip
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # as bench/_measure.py, which imports torch


def child(model: str, steps: int, setting: str) -> None:
    """Train ``steps`` steps and print the median seconds per step as JSON (the environment the parent gave
    decides the threads)."""
    import torch

    import workbench as wb

    config = wb.RunConfig()
    config.model.name, config.data.name = model, str(DATA / "wnut17")
    config.data.max_train_examples, config.data.max_eval_examples = 400, 8
    config.train.steps, config.train.eval_every, config.train.eval_generate = steps, 0, 0
    run = wb.Run.create(config)
    history = run.train()
    times = [b.elapsed_s - a.elapsed_s for a, b in zip(history.steps, history.steps[1:])]
    threads = [s.threads or torch.get_num_threads() for s in history.steps]
    print(json.dumps({"s_per_step": statistics.median(times[2:]), "threads": statistics.median(threads)}))


def _measure(model: str, steps: int, setting: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")} | ENV[setting]
    out = subprocess.run([sys.executable, __file__, "--child", setting, "--model", model, "--steps", str(steps)],
                         env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--settings", default="fixed,passive,one,workbench")
    parser.add_argument("--repeats", type=int, default=3, help="runs alone per setting")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.model, args.steps, args.child)
    import workbench as wb

    wb.fetch_model(args.model)
    settings = args.settings.split(",")
    print(f"{args.model}, WNUT-17 rows, {args.steps} steps of 8, {os.cpu_count()} CPUs; median s/step "
          f"(alone: the median of {args.repeats} runs, the settings taking turns)")  # fmt: skip
    alone: dict[str, list[dict[str, float]]] = {setting: [] for setting in settings}
    for _ in range(args.repeats):
        for setting in settings:
            alone[setting].append(_measure(args.model, args.steps, setting))
    for setting in settings:
        by_itself = statistics.median(m["s_per_step"] for m in alone[setting])
        busy_loop = subprocess.Popen(["setsid", sys.executable, "-c", "while 1: pass"])
        try:
            time.sleep(1)
            busy = _measure(args.model, args.steps, setting)
        finally:
            busy_loop.kill()
        print(f"  {setting:<10} alone {by_itself:.3f} s ({alone[setting][0]['threads']:.0f} threads), busy "
              f"{busy['s_per_step']:.3f} s ({busy['threads']:.0f} threads): {busy['s_per_step'] / by_itself:.1f}x "
              "slower", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
