"""The public face: what a notebook user types after ``import workbench as wb``, and nothing it shadows."""

from __future__ import annotations

import subprocess
import sys

import pytest

VERBS = {"compare", "compare_multitask", "analyse", "sweep", "load_prefix_bank"}


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_the_top_level_holds_the_three_things_a_verb_per_study_and_reachable_submodules():
    code = (
        "import inspect, workbench as wb\n"
        # Importing every submodule first must not turn a verb into the module of the same concept.
        "import workbench.comparison, workbench.sweeps.study, workbench.analysis.combined, workbench.prefix_bank\n"
        "import workbench.multitask\n"
        "print(sorted(n for n in wb.__all__ if inspect.isfunction(getattr(wb, n))))\n"
        "print(sorted(n for n in wb.__all__ if inspect.isclass(getattr(wb, n))))\n"
        "print(sorted(n for n in wb.__all__ if inspect.ismodule(getattr(wb, n))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert eval(out[0]) == sorted(VERBS | {"fetch_model"})
    assert eval(out[1]) == ["Run", "RunConfig", "Workbench", "WorkbenchError"]
    assert eval(out[2]) == ["analysis", "comparison", "metrics", "plots", "sweeps", "tracking", "ui"]


def test_importing_the_package_imports_no_heavy_library():
    code = (
        "import sys, workbench as wb; wb.__all__; print(sorted({'torch', 'transformers', 'peft'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
