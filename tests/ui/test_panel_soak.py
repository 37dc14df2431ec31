"""A long session: many runs in one panel keep memory flat (issue 14, part 3; bench/soak.py measures RSS).

RSS is noisy on a shared machine, so the test counts what a leak would leave behind instead: the bytes of
every tensor still alive after each run. Earlier runs keep their prefix and history and drop their trainer,
optimizer state and encoded data (Run.release); the frozen base is shared, so a run costs its prefix.
"""

from __future__ import annotations

import gc

import torch

from workbench.ui import Workbench


def _tensor_bytes() -> int:
    gc.collect()
    seen, total = set(), 0
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and not obj.is_meta:
            storage = obj.untyped_storage()
            if storage.data_ptr() not in seen:
                seen.add(storage.data_ptr())
                total += storage.nbytes()
    return total


def test_many_runs_in_one_panel_keep_tensor_memory_flat(make_config, tmp_path):
    panel = Workbench(make_config("tiny-demo", train={"steps": 6, "eval_every": 3}), chart_interval_s=0,
                      chart_budget=None)  # fmt: skip
    assert panel.settled(timeout=120)
    sizes = []
    for round_ in range(6):
        run = panel.train(wait=True)
        assert run is not None and run.history.last_step == 6
        if round_ % 2:
            panel.export(tmp_path / f"run-{round_}")
        sizes.append(_tensor_bytes())
    earlier = [r for r in panel.runs.values() if r is not panel.run]
    assert len(earlier) == 5 and all(r._trainer is None and r._splits is None for r in earlier)
    prefix_bytes = sum(p.numel() * p.element_size() for p in panel.run.live_model.parameters() if p.requires_grad)
    growth = [b - a for a, b in zip(sizes[1:], sizes[2:])]
    # A run keeps its prefix (plus a little: history is Python objects, not tensors); an optimizer's state
    # alone would be twice the prefix, a second copy of the base megabytes.
    assert max(growth) <= prefix_bytes * 1.5 + 64 * 1024, (growth, prefix_bytes)
