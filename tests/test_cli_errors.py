"""The CLI's error contract: every mistake a person can make with a run, a file or a flag is one line and exit 2."""

from __future__ import annotations

import json
import shutil

import pytest

from workbench.cli import main
from workbench.errors import one_line

FAST = ["--steps", "2", "--eval-generate", "2", "--max-eval-examples", "4", "--max-train-examples", "16"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A classifier's run, and run directories broken the ways a disk or a person breaks them."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "tiny-bert", "--dataset", "toy-sentiment", "--out", str(root / "classifier"),
                 *FAST]) == 0  # fmt: skip
    (root / "empty").mkdir()
    info = json.loads((root / "classifier" / "run.json").read_text())
    broken = {
        "garbage": "{not json",
        "list": "[1, 2]",
        "no-config": json.dumps({**info, "config": None}),
        "bad-config": json.dumps({**info, "config": {**info["config"], "prefix": {"length": "ten"}}}),
    }
    for name, text in broken.items():
        shutil.copytree(root / "classifier", root / name)
        (root / name / "run.json").write_text(text)
    (root / "notes.txt").write_text("not a config\n")
    (root / "lr.json").write_text(json.dumps({"train": {"lr": -1}}))
    return root


CASES = [
    (["generate", "--run", "{classifier}", "--prompt", "hi"], "writes no text"),
    (["evaluate", "--run", "{missing}"], "does not exist"),
    (["evaluate", "--run", "{empty}"], "run.json"),
    (["evaluate", "--run", "{garbage}"], "run.json"),
    (["evaluate", "--run", "{list}"], "run.json"),
    (["evaluate", "--run", "{no-config}"], "run.json"),
    (["evaluate", "--run", "{bad-config}"], "run.json"),
    (["generate", "--run", "{garbage}", "--prompt", "x"], "run.json"),
    (["analyse", "--run", "{missing}"], "does not exist"),
    (["analyse", "--run", "{bad-config}"], "run.json"),
    (["analyse", "--run", "{classifier}", "--rows", "0"], "rows"),
    (["evaluate", "--run", "{classifier}", "--dataset", "{missing}.csv"], "does not exist"),
    (["evaluate", "--run", "{classifier}", "--dataset", "{notes}"], "notes.txt"),
    (["train", "--resume", "{empty}"], "run.json"),
    (["train", "--config", "{notes}"], "notes.txt"),
    (["train", "--config", "{lr}"], "lr is -1"),
    (["train", "--config", "{missing}.json"], "does not exist"),
    (["sweep", "--out", "{notes}", "--space", "lr=1e-3:1e-1"], "is a file"),
    (["sweep", "--out", "{classifier}", "--space", "lr=1e-3:1e-1", "--resume"], "holds no sweep"),
    (["compare", "--config", "{notes}"], "notes.txt"),
    (["multitask", "--dataset", "toy-e2e"], "two or more --dataset"),
]


@pytest.mark.parametrize(("args", "needle"), CASES, ids=[" ".join(a[:3]) for a, _ in CASES])
def test_each_subcommand_given_a_broken_run_or_file_says_what_in_one_line(runs, capsys, args, needle):
    paths = {p.name.split(".")[0]: str(p) for p in runs.iterdir()}
    filled = [a.format(**paths, missing=str(runs / "missing")) for a in args]
    assert main(filled) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert needle in err, err


def test_one_line_is_safe_on_empty_and_long_messages():
    assert one_line(ValueError()) == "ValueError"
    assert one_line(OSError("\n\n  disk full \nerrno 28")) == "disk full"
    assert one_line("x" * 300) == "x" * 199 + "…" and len(one_line(RuntimeError("y" * 500), limit=50)) == 50
