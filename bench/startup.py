"""Startup latency: how soon the CLI answers and the panel shows, is ready, and draws a first point.

    python bench/startup.py [--repeats 5]

Each measurement starts from nothing: the CLI ones in a fresh process
(``prefix-workbench --help``, ``models``, ``datasets``, an argument error), the panel
ones in a fresh IPython kernel (started with jupyter_client, as JupyterLab does), whose
cell runs ``import workbench as wb; panel = wb.Workbench(); display(panel)``:

* visible: the cell has shown the panel (settings, a "loading tiny-demo…" line);
* ready: the model, the data preview and the parameter counts are in (``panel.settled()``);
* first point: after Train is pressed on the ready panel, the loss chart holds a step.

Medians over ``--repeats`` fresh processes / kernels; the last line gives the worst of
each against its target (CLI <= 0.5 s, panel visible <= 1.5 s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _kernel import Kernel

CLI = {"--help": ["--help"], "models": ["models"], "datasets": ["datasets"],
       "argument error": ["train", "--lr", "-1"]}  # fmt: skip


# -- in a kernel -------------------------------------------------------------------------------


def panel_latencies() -> dict[str, float]:
    """Run as a kernel's first cell: nothing of the workbench is imported before it starts."""
    start = time.perf_counter()
    from IPython.display import display

    import workbench as wb

    panel = wb.Workbench()
    display(panel)
    visible = time.perf_counter() - start
    panel.settled()
    ready = time.perf_counter() - start
    clicked = time.perf_counter()
    panel.train_button.click()
    while not len(panel.loss_chart.figure.data[0].x):
        time.sleep(0.002)
    first_point = time.perf_counter() - clicked
    panel.stop()
    panel.wait()
    return {"visible": visible, "ready": ready, "first point": first_point}


# -- driving processes and kernels -------------------------------------------------------------


def cli_seconds(argv: list[str]) -> float:
    script = shutil.which("prefix-workbench") or str(Path(sys.executable).with_name("prefix-workbench"))
    start = time.perf_counter()
    subprocess.run([script, *argv], capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cli = {name: statistics.median(cli_seconds(argv) for _ in range(args.repeats)) for name, argv in CLI.items()}
    panels = []
    for _ in range(args.repeats):
        kernel = Kernel("startup")
        try:
            panels.append(kernel.call("startup.panel_latencies()"))
        finally:
            kernel.close()
    panel = {key: statistics.median(p[key] for p in panels) for key in panels[0]}
    print(f"median of {args.repeats}, each in a fresh process (CLI) or IPython kernel (panel, tiny-demo)")
    for name, seconds in cli.items():
        print(f"  prefix-workbench {name:<24} {seconds:6.2f} s")
    labels = {"visible": "panel visible (import + show)", "ready": "panel ready (model, preview, counts)",
              "first point": "Train -> first loss point"}  # fmt: skip
    for key, seconds in panel.items():
        print(f"  {labels[key]:<41} {seconds:6.2f} s")
    print(f"startup: CLI worst {max(cli.values()):.2f} s (target <= 0.5), panel visible {panel['visible']:.2f} s "
          f"(target <= 1.5), ready {panel['ready']:.2f} s, first point {panel['first point']:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
