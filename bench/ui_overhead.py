"""UI overhead: training with the notebook panel attached vs the engine alone, and Stop latency.

    python bench/ui_overhead.py [--steps 120] [--repeats 3]

The measuring runs inside fresh IPython kernels (started with jupyter_client), as in
JupyterLab: the panel's widgets have live comms, so every throttled chart refresh is
really serialized and sent. Both sides train tiny-demo on toy-e2e with the same
settings, evaluations included (the panel also probes attention and shows samples on
each). The engine side is ``Run.train()`` in a cell of one kernel, with no callbacks;
the panel side is ``Workbench.train()`` in a second kernel, with live charts in both
modes (``widget``: FigureWidget updated in place; ``static``: figure re-rendered into
an Output). Two kernels, because the panel trains in a background thread (so the
kernel stays free for the Stop button) and libgomp, PyTorch's OpenMP runtime on
Linux, slows a second thread's parallel regions once the main thread has trained
(measured as a third side: the panel in the engine's kernel, after its runs). Times
are the runs' own ``EndEvent.elapsed_s``, alternated so drift hits every side. Then
Stop: the Stop button is clicked at several points of a run, twice just as an
evaluation starts (the slowest moment); latency is click → panel ready again. The
last line gives panel / engine for the worse chart mode and the worst Stop latency
(targets <= 1.10, <= 1 s).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from _kernel import Kernel
from IPython.display import display

from workbench import Run, RunConfig
from workbench.ui import Workbench

# -- in a kernel -------------------------------------------------------------------------------


def _config(steps: int) -> RunConfig:
    warnings.simplefilter("ignore")
    cfg = RunConfig()
    cfg.train.steps, cfg.train.eval_every, cfg.train.device = steps, steps // 3, "cpu"
    return cfg


def _panel(cfg: RunConfig, charts: str) -> Workbench:
    panel = Workbench(cfg, charts=charts)
    display(panel)
    return panel


def engine_seconds(steps: int) -> float:
    run = Run.create(_config(steps))
    run.train()
    return run.history.ends[-1].elapsed_s


def panel_seconds(steps: int, charts: str) -> float:
    cfg = _config(steps)
    return _panel(cfg, charts).train(cfg, wait=True).history.ends[-1].elapsed_s


def stop_latencies(steps: int) -> list[dict]:
    """Click Stop after a few steps, as evaluations start and just after; seconds until the panel is free."""
    cfg, evals, out = _config(steps), steps // 3, []
    for at in (5, evals, evals + 7, 2 * evals, 2 * evals + 3):
        panel = _panel(cfg, "widget")
        panel.train(cfg)
        while panel.run is None or panel.run.history.last_step < at:
            time.sleep(0.001)
        start = time.perf_counter()
        panel.stop_button.click()
        panel.wait()
        out.append({"at_step": at, "seconds": time.perf_counter() - start,
                    "stopped_at": panel.run.history.ends[-1].step})  # fmt: skip
    return out


# -- driving the kernels -----------------------------------------------------------------------


def measure(steps: int, repeats: int) -> dict:
    engine, panel = Kernel("ui_overhead"), Kernel("ui_overhead")
    try:
        engine.call(f"ui_overhead.engine_seconds({steps})")  # warm-up: caches, allocator, first generate
        panel.call(f"ui_overhead.panel_seconds({steps}, 'widget')")
        times: dict[str, list[float]] = {"engine": [], "widget": [], "static": [], "same kernel": []}
        for _ in range(repeats):
            times["engine"].append(engine.call(f"ui_overhead.engine_seconds({steps})"))
            for charts in ("widget", "static"):
                times[charts].append(panel.call(f"ui_overhead.panel_seconds({steps}, {charts!r})"))
            times["same kernel"].append(engine.call(f"ui_overhead.panel_seconds({steps}, 'widget')"))
        return {"times": times, "stop": panel.call(f"ui_overhead.stop_latencies({steps})")}
    finally:
        engine.close()
        panel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.steps, args.repeats)
    med = {side: statistics.median(t) for side, t in result["times"].items()}
    print(f"tiny-demo on toy-e2e, {args.steps} steps, evaluations every {args.steps // 3} "
          f"(median of {args.repeats}, in IPython kernels)")  # fmt: skip
    names = {"engine": "engine (its own kernel)", "widget": "panel, widget charts", "static": "panel, static charts",
             "same kernel": "panel, widget charts, in the engine's kernel"}  # fmt: skip
    for side, seconds in med.items():
        print(f"  {names[side]:<45} {seconds:6.2f} s   {seconds / med['engine']:.3f}x engine")
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
