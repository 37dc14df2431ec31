"""The package's layers: a module imports only from its own layer or those below, and no front end from another.

foundation → settings and inputs (config, data, models) → engine (a run) → studies (over runs) → front ends.
Imports under ``if TYPE_CHECKING:`` are for annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

# Each module or package (by its dotted name under workbench) and its layer; a package's modules share it.
FOUNDATION = ["_lazy", "errors", "jsonio", "process_state", "quiet", "hub", "metrics", "tokens", "threads",
              "training_thread", "history", "checkpoint", "plots"]  # fmt: skip
INPUTS = ["config", "config_flags", "tracking", "data", "models"]
ENGINE = ["prefix_init", "prefix", "loss", "memory", "train", "evaluate", "generate", "attention", "ranking",
          "run_record", "model_card", "rundir", "run_info", "run", "prefix_bank", "try_it", "report"]  # fmt: skip
STUDIES = ["analysis", "sweeps", "comparison", "multitask"]
FRONT_ENDS = ["cli", "ui", "demo", ""]  # "": the package's own __init__, the facade
LAYERS: dict[str, int] = {unit: i for i, units in enumerate([FOUNDATION, INPUTS, ENGINE, STUDIES, FRONT_ENDS])
                          for unit in units}  # fmt: skip
NAMES = ["foundation", "settings and inputs", "engine", "studies", "front ends"]


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(name: str) -> str:
    return name.split(".")[0]


def _imports(path: Path) -> set[str]:
    """The workbench modules ``path`` imports (dotted names under workbench), at any depth of its code."""
    package = _name(path).split(".") if path.name == "__init__.py" else _name(path).split(".")[:-1]
    return _imports_in(path.read_text(encoding="utf-8"), [p for p in package if p])


def _imports_in(source: str, package: list[str]) -> set[str]:
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("workbench"):
                module = node.module.removeprefix("workbench").lstrip(".")
            else:
                return
            found.update(f"{module}.{a.name}".lstrip(".") if not node.module else module for a in node.names)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name.removeprefix("workbench").lstrip(".") for a in node.names
                         if a.name.startswith("workbench"))  # fmt: skip

    Visitor().visit(ast.parse(source))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert not sorted({_unit(_name(p)) for p in MODULES} - set(LAYERS))


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) or "workbench" for p in MODULES])
def test_a_module_imports_only_its_own_layer_or_below_and_no_other_front_end(path):
    own = _unit(_name(path))
    wrong = []
    for target in _imports(path):
        unit = _unit(target)
        if unit not in LAYERS or unit == own:
            continue
        if LAYERS[unit] > LAYERS[own] or (LAYERS[own] == LAYERS[unit] == 4 and own):
            wrong.append(f"{target} ({NAMES[LAYERS[unit]]})")
    assert not wrong, f"{_name(path)} ({NAMES[LAYERS[own]]}) imports {', '.join(sorted(wrong))}"


def test_the_check_sees_upward_imports_and_skips_annotations_only():
    source = ("from typing import TYPE_CHECKING\nfrom .run import Run\nfrom .. import ui\n"
              "if TYPE_CHECKING:\n    from .attention import ProbeResult\n"
              "def f():\n    from .ui.panel import Workbench\n")  # fmt: skip
    assert _imports_in(source, ["data"]) == {"data.run", "ui", "data.ui.panel"}
    assert _imports_in("import workbench.run\nfrom workbench.sweeps import sweep\n", []) == {"run", "sweeps"}
