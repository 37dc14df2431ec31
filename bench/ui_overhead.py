"""UI overhead: training with the notebook panel attached vs the engine alone, and Stop latency.

    python bench/ui_overhead.py [--steps 120] [--repeats 3]

The measuring runs inside a fresh IPython kernel (started with jupyter_client), as in
JupyterLab: the panel's widgets have live comms, so every throttled chart refresh is
really serialized and sent. Both sides train tiny-demo on toy-e2e with the same
settings, evaluations included (the panel also probes attention and shows samples on
each); the engine side is ``Run.train()`` with no callbacks, the panel side
``Workbench.train()`` with live charts in both modes (``widget``: FigureWidget updated
in place; ``static``: figure re-rendered into an Output). A third side runs the engine
in a background thread with no panel, as the panel trains (so that the kernel stays
free for the Stop button): it splits the overhead into what the thread costs and what
the panel's drawing costs. Times are the runs' own ``EndEvent.elapsed_s``, alternated
so drift hits every side. Then Stop: the Stop button
is clicked at several points of a run, twice just as an evaluation starts (the slowest
moment); latency is click → panel ready again. The last line gives panel / engine for
the worse chart mode and the worst Stop latency (targets <= 1.10, <= 1 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

from IPython.display import display

from workbench import Run, RunConfig
from workbench.ui import Workbench

_BENCH = Path(__file__).resolve().parent
_MARK = "UI-OVERHEAD-RESULT "


def _config(steps: int) -> RunConfig:
    cfg = RunConfig()
    cfg.train.steps, cfg.train.eval_every, cfg.train.device = steps, steps // 3, "cpu"
    cfg.train.fit_warmup()
    return cfg


def _panel(cfg: RunConfig, charts: str) -> Workbench:
    panel = Workbench(cfg, charts=charts)
    display(panel)
    return panel


def measure(steps: int, repeats: int) -> dict:
    """Inside the kernel: elapsed seconds per side, and Stop latencies."""
    warnings.simplefilter("ignore")
    cfg = _config(steps)
    times: dict[str, list[float]] = {"engine": [], "thread": [], "widget": [], "static": []}
    Run.create(cfg).train()  # warm-up: caches, allocator, first generate
    for _ in range(repeats):
        run = Run.create(cfg)
        run.train()
        times["engine"].append(run.history.ends[-1].elapsed_s)
        run = Run.create(cfg)
        worker = threading.Thread(target=run.train)
        worker.start()
        worker.join()
        times["thread"].append(run.history.ends[-1].elapsed_s)
        for charts in ("widget", "static"):
            run = _panel(cfg, charts).train(cfg, wait=True)
            times[charts].append(run.history.ends[-1].elapsed_s)
    latencies = []
    evals = cfg.train.eval_every
    for at in (5, evals, evals + 7, 2 * evals, 2 * evals + 3):
        panel = _panel(cfg, "widget")
        panel.train(cfg)
        while panel.run is None or panel.run.history.last_step < at:
            time.sleep(0.001)
        start = time.perf_counter()
        panel.stop_button.click()
        panel.wait()
        latencies.append({"at_step": at, "seconds": time.perf_counter() - start,
                          "stopped_at": panel.run.history.ends[-1].step})  # fmt: skip
    return {"times": times, "stop": latencies, "steps": steps}


def _in_kernel(steps: int, repeats: int) -> dict:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(_BENCH.parent))
    found: dict = {}

    def on_output(msg: dict) -> None:
        text = msg["content"].get("text", "")
        if msg["msg_type"] == "stream" and _MARK in text:
            found.update(json.loads(text.split(_MARK, 1)[1]))
        elif msg["msg_type"] == "error":
            print("\n".join(msg["content"]["traceback"]), file=sys.stderr)

    code = (f"import sys, json; sys.path.insert(0, {str(_BENCH)!r}); import ui_overhead\n"
            f"print({_MARK!r} + json.dumps(ui_overhead.measure({steps}, {repeats})))")  # fmt: skip
    try:
        kc.execute_interactive(code, output_hook=on_output, timeout=1800)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if not found:
        raise SystemExit("the kernel printed no result; see the traceback above")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = _in_kernel(args.steps, args.repeats)
    med = {side: statistics.median(t) for side, t in result["times"].items()}
    print(f"tiny-demo on toy-e2e, {result['steps']} steps, evaluations every {result['steps'] // 3} "
          f"(median of {args.repeats}, in an IPython kernel)")  # fmt: skip
    names = {"engine": "engine", "thread": "engine in a thread", "widget": "panel, widget charts",
             "static": "panel, static charts"}  # fmt: skip
    for side, seconds in med.items():
        print(f"  {names[side]:<21} {seconds:6.2f} s   {seconds / med['engine']:.3f}x engine   "
              f"{seconds / med['thread']:.3f}x engine in a thread")  # fmt: skip
    for s in result["stop"]:
        print(f"  Stop clicked after step {s['at_step']:>3}: ready again in {s['seconds']:.3f} s "
              f"(ended at step {s['stopped_at']})")  # fmt: skip
    worst = max(med["widget"], med["static"]) / med["engine"]
    print(
        f"UI overhead (panel / engine, worse chart mode): {worst:.3f}x; "
        f"worst Stop latency {max(s['seconds'] for s in result['stop']):.2f} s (targets <= 1.10, <= 1 s)"
    )


if __name__ == "__main__":
    main()
