import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main

SMALL = ["--max-train-examples", "128", "--steps", "12", "--lr", "0.3", "--eval-every", "0", "--prefix-length", "4"]
PROMPT = "name[Aromi] food[Italian] area[riverside]"
# Runs whose settings, not their scores, are under test: two steps, no generation.
SETTINGS_ONLY = [*SMALL, "--steps", "2", "--eval-generate", "0"]


def test_train_then_generate_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert (
        main(["train", "--model", "tiny-gpt2", "--dataset", "toy-e2e", "--out", str(out), "--seed", "3", *SMALL]) == 0
    )
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["prefix"]["length"] == 4 and info["config"]["train"]["seed"] == 3
    assert info["steps_done"] == 12 and "slot_coverage" in info["metrics"]
    assert "evaluate: " in capsys.readouterr().err  # the bar says what it does while it evaluates
    assert main(["generate", "--run", str(out), "--prompt", PROMPT, "--max-new-tokens", "6"]) == 0
    generated = capsys.readouterr().out.strip()
    from workbench import Run

    assert generated == Run.load(out).generate([PROMPT], max_new_tokens=6)[0]


def test_flags_init_projection_and_config_file(tmp_path):
    out = tmp_path / "a"
    args = ["train", "--out", str(out), "--init", 'text:"describe :"', "--no-projection", *SETTINGS_ONLY]
    assert main(args) == 0
    cfg = json.loads((out / "run.json").read_text())["config"]
    assert cfg["prefix"]["init"] == "text" and cfg["prefix"]["init_text"] == "describe :"
    out2 = tmp_path / "b"
    assert main(["train", "--config", str(out / "run.json"), "--out", str(out2), "--steps", "3"]) == 0
    cfg2 = json.loads((out2 / "run.json").read_text())["config"]
    assert cfg2["prefix"]["init_text"] == "describe :" and cfg2["train"]["steps"] == 3
    # --projection turns the MLP on (and it trains: more parameters); --no-projection turns a saved one off.
    out3, out4 = tmp_path / "c", tmp_path / "d"
    assert main(["train", "--out", str(out3), "--projection", "--hidden-size", "16", *SETTINGS_ONLY]) == 0
    info3 = json.loads((out3 / "run.json").read_text())
    assert info3["config"]["prefix"]["projection"] is True and info3["config"]["prefix"]["hidden_size"] == 16
    again = ["train", "--config", str(out3 / "run.json"), "--no-projection", "--out", str(out4), *SETTINGS_ONLY]
    assert main(again) == 0
    info4 = json.loads((out4 / "run.json").read_text())
    assert info4["config"]["prefix"]["projection"] is False
    assert info4["parameters"]["trainable"] < info3["parameters"]["trainable"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--prefix-length", "0"], "allowed range is [1, 2048]"),
        (["train", "--lr", "nan"], "lr is nan"),
        (["train", "--batch-size", "0"], "batch_size is 0"),
        (["train", "--steps", "0"], "steps is 0"),
        (["train", "--init", "fancy"], "--init is 'fancy'"),
        (["train", "--model", "./missing-model"], "does not exist"),
        (["train", "--dataset", "missing.jsonl"], "does not exist"),
        (["train", "--column", "oops"], "ROLE=COLUMN"),
        (["train", "--prefix-length", "ten"], "invalid int value"),
        (["generate", "--run", "nowhere", "--prompt", "x"], "does not exist"),
        (["generate", "--run", "nowhere"], "at least one --prompt"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, needle):
    assert main(args) == 2  # argparse's own errors (a type, a choice) too: main returns, it does not exit
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_existing_out_is_refused_without_overwrite(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    assert main(["train", "--out", str(tmp_path / "x"), *SMALL]) == 2
    assert "already exists" in capsys.readouterr().err


def test_the_installed_console_script_runs(tmp_path):
    script = shutil.which("prefix-workbench") or str(Path(sys.executable).with_name("prefix-workbench"))
    result = subprocess.run([script, "models"], capture_output=True, text=True, check=True)
    assert "tiny-demo" in result.stdout
    bad = subprocess.run([script, "train", "--lr", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "lr is -1" in bad.stderr


def test_listings_and_console_script(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "models"], capture_output=True, text=True, check=True
    )
    assert "tiny-llama" in result.stdout and "Qwen/Qwen2.5-0.5B" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "datasets"], capture_output=True, text=True, check=True
    )
    assert "toy-e2e" in result.stdout and "e2e_nlg" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "train", "--steps", "-1"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


LIGHT = """
import contextlib, io, sys
from workbench.cli import main
for argv in {argv!r}:
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()), \\
            contextlib.redirect_stderr(io.StringIO()):
        main(argv)
print(",".join(m for m in ("torch", "transformers", "peft", "datasets", "accelerate") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["models"], ["datasets"], ["train", "--help"], ["train", "--lr", "-1"],
     ["train", "--prefix-length", "ten"], ["train", "--init", "fancy"], ["nonsense"]],
)  # fmt: skip
def test_listings_help_and_argument_errors_import_no_heavy_library(argv):
    # Answering in a blink means not importing torch, transformers, peft or datasets (4-5 s on 2 cores).
    result = subprocess.run([sys.executable, "-c", LIGHT.format(argv=[argv])], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == ""


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_the_import_check_sees_heavy_libraries_when_a_command_loads_them():
    # The control for the test above: a command that opens a run directory does import torch.
    argv = [["generate", "--run", "nowhere", "--prompt", "x"]]
    result = subprocess.run([sys.executable, "-c", LIGHT.format(argv=argv)], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert "torch" in result.stdout.split(",")


NOISE = ("Loading weights", "Writing model shards", "loss_type=None", "is_gradient_checkpointing")


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
@pytest.mark.parametrize("model", ["tiny-demo", "tiny-bert"])
def test_a_default_run_prints_no_library_chatter(tmp_path, model):
    # In a fresh process with an empty model cache, so that loading and building both happen.
    env = {**os.environ, "PREFIX_WORKBENCH_HOME": str(tmp_path / "home"), "PYTHONWARNINGS": "default"}
    data = ["--dataset", "toy-sentiment"] if model == "tiny-bert" else []
    args = [
        "train",
        "--model",
        model,
        *data,
        "--steps",
        "3",
        "--max-train-examples",
        "32",
        "--out",
        str(tmp_path / "r"),
    ]
    result = subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    printed = result.stdout + result.stderr
    assert not [line for line in NOISE if line in printed], printed
    # With every warning shown (PYTHONWARNINGS=default), a default run on the shipped model prints none: a
    # library's chatter about its own internals that leaks past the workbench's calls fails here.
    assert not [line for line in printed.splitlines() if "Warning:" in line], printed
