"""prefix-workbench: train, probe and export prefix-tuning adapters (PEFT), from notebooks or a CLI.

import workbench as wb
run = wb.Run.create(wb.RunConfig())        # tiny built-in model + toy dataset, offline
history = run.train(callbacks=[print])     # events in, history out
run.export("runs/demo")                    # PEFT adapter + run.json + model card
wb.Workbench()                             # in a notebook: the panel
wb.compare(cfg) / wb.analyse(run) / wb.sweep(cfg, space, …) / wb.load_prefix_bank(run_dirs)   # a verb per study
"""

from __future__ import annotations

from ._lazy import lazy_exports

# What a notebook user needs, by name -> the submodule that defines it: the three things (a config, a run,
# the panel), a verb for each study (compare, compare_multitask, analyse, sweep, load_prefix_bank), the packaged-model
# fetch, and the error every one-line failure is. Everything else lives in its submodule
# (``workbench.history.StepEvent``, ``workbench.models.load_model``, …). Imports are lazy (PEP 562) so that
# `prefix-workbench models` and the notebook's first cell do not pay for torch, transformers and peft up front.
_EXPORTS = {
    "Run": ".run",
    "RunConfig": ".config",
    "Workbench": ".ui",
    "WorkbenchError": ".errors",
    "analyse": ".analysis",
    "compare": ".comparison",
    "compare_multitask": ".multitask",
    "fetch_model": ".models",
    "load_prefix_bank": ".prefix_bank",
    "sweep": ".sweeps",
}
# Submodules reachable as attributes: ``wb.plots.loss_figure(run.history)``, ``wb.analysis.slot_readout(…)``.
_SUBMODULES = ("analysis", "comparison", "metrics", "plots", "sweeps", "tracking", "ui")

__all__ = [
    "Run",
    "RunConfig",
    "Workbench",
    "WorkbenchError",
    "analyse",
    "analysis",
    "compare",
    "compare_multitask",
    "comparison",
    "fetch_model",
    "load_prefix_bank",
    "metrics",
    "plots",
    "sweep",
    "sweeps",
    "tracking",
    "ui",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)


def __dir__() -> list[str]:
    return sorted(__all__)
