"""A long session: many runs in one panel keep memory flat (issue 14, part 3; bench/soak.py measures RSS).

RSS is noisy on a shared machine, so the test counts what a leak would leave behind instead: the objects the
garbage collector tracks after each run. Earlier runs keep their prefix and history and drop their trainer,
optimizer state and encoded data (Run.release); the frozen base is shared. Measured here: about 230 objects a
run with release (history events, the runs list), about 1,160 without (the encoded rows of every run kept).
"""

from __future__ import annotations

import gc
import itertools

from workbench.ui import Workbench


def test_many_runs_in_one_panel_keep_memory_flat(make_config, tmp_path):
    panel = Workbench(make_config("tiny-demo", train={"steps": 6, "eval_every": 3}), chart_interval_s=0,
                      chart_budget=None)  # fmt: skip
    assert panel.settled(timeout=120)
    counts = []
    for round_ in range(5):
        run = panel.train(wait=True)
        assert run is not None and run.history.last_step == 6
        if round_ % 2:
            panel.export(tmp_path / f"run-{round_}")
        gc.collect()
        counts.append(len(gc.get_objects()))
    growth = [b - a for a, b in itertools.pairwise(counts[1:])]  # after the first run
    assert max(growth) < 600, growth
    earlier = [r for r in panel.runs.values() if r is not panel.run]
    assert len(earlier) == 4 and all(r._trainer is None and r._splits is None for r in earlier)
