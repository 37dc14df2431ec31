"""The package as a user gets it: a wheel installed outside the checkout, and the Colab setup cell.

The wheel is built from this checkout and installed into a fresh virtual environment in a
temporary folder. Its dependencies come from this test environment's site-packages
through a folder of links that leaves out everything of the workbench itself (its
editable install and metadata), so ``import workbench`` can only find the wheel and
nothing is downloaded. Then, from a folder outside the checkout: the notebooks' Colab
setup cell runs with a simulated ``google.colab`` and installs the wheel uploaded beside
the notebook; ``prefix-workbench train`` runs on the shipped demo weights; notebook 01
runs top to bottom in a kernel of that environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_COLAB = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"


def _setup_cell() -> str:
    nb = json.loads((ROOT / "notebooks" / "01_quickstart.ipynb").read_text())
    return next("".join(c["source"]) for c in nb["cells"] if "".join(c["source"]).startswith("# Setup: on Google"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(root / "dist"), str(ROOT)], check=True, capture_output=True)  # fmt: skip
    (wheel,) = (root / "dist").glob("prefix_workbench-*.whl")
    # The dependencies, without the workbench: links to everything else in this environment's site-packages.
    # (named site-packages: dill, under datasets' hashing, pickles classes from any other folder by value)
    deps = root / "deps" / "site-packages"
    deps.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("workbench", "prefix_workbench", "__editable__", "_prefix_workbench")):
            (deps / entry.name).symlink_to(entry)
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(site, "deps.pth").write_text(f"{deps}\n")
    user = root / "user"  # outside the checkout: where a user's notebook and uploaded wheel would be
    user.mkdir()
    (user / wheel.name).write_bytes(wheel.read_bytes())
    return {"python": python, "user": user, "wheel": wheel.name, "bin": env_dir / "bin"}


def test_the_colab_setup_cell_installs_the_wheel_uploaded_beside_the_notebook(installed):
    env = {**os.environ, "PYTHONNOUSERSITE": "1"}
    absent = subprocess.run([installed["python"], "-c", "import workbench"], cwd=installed["user"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert absent.returncode != 0  # nothing of the checkout leaks into this environment
    cell = subprocess.run([installed["python"], "-c", FAKE_COLAB + _setup_cell()], cwd=installed["user"], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert cell.stdout.strip() == f"installed prefix-workbench from {installed['wheel']}"
    where = subprocess.run([installed["python"], "-c", "import workbench; print(workbench.__file__)"],
                           cwd=installed["user"], env=env, capture_output=True, text=True, check=True)  # fmt: skip
    assert where.stdout.startswith(str(installed["python"].parents[1])) and str(ROOT) not in where.stdout


def test_the_installed_cli_trains_on_the_shipped_demo_and_notebook_01_runs(installed, tmp_path):
    env = {**os.environ, "PYTHONNOUSERSITE": "1", "PREFIX_WORKBENCH_HOME": str(tmp_path / "home"),
           "PATH": f"{installed['bin']}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    if not (installed["bin"] / "prefix-workbench").exists():  # the Colab test installs it; alone, install here
        subprocess.run([installed["python"], "-m", "pip", "install", "-q", "--no-deps", installed["wheel"]],
                       cwd=installed["user"], env=env, check=True, capture_output=True)  # fmt: skip
    train = subprocess.run([installed["bin"] / "prefix-workbench", "train", "--steps", "3", "--max-train-examples",
                            "32", "--out", "runs/first"], cwd=installed["user"], env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert train.returncode == 0, train.stderr
    info = json.loads((installed["user"] / "runs" / "first" / "run.json").read_text())
    assert info["base_model"] == "tiny-demo" and "site-packages" in info["base_model_path"]

    nb = nbformat.read(ROOT / "notebooks" / "01_quickstart.ipynb", as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += "\nSTEPS = 20"
    notebook = installed["user"] / "01_quickstart.ipynb"
    nbformat.write(nb, notebook)
    runner = ("import nbformat, sys\nfrom nbclient import NotebookClient\n"
              f"nb = nbformat.read({str(notebook)!r}, as_version=4)\n"
              f"NotebookClient(nb, timeout=300, kernel_name='python3', resources={{'metadata': {{'path': "
              f"{str(installed['user'])!r}}}}}).execute()\n"
              f"nbformat.write(nb, {str(notebook)!r})\n"
              "print(sum(o.get('output_type') == 'error' for c in nb.cells for o in c.get('outputs', [])))"
              )  # fmt: skip
    ran = subprocess.run([installed["python"], "-c", runner], cwd=installed["user"], env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert ran.returncode == 0 and ran.stdout.strip().splitlines()[-1] == "0", ran.stderr[-2000:]
    assert (installed["user"] / "runs" / "quickstart" / "adapter" / "adapter_config.json").is_file()
    # What the notebook showed: none of the libraries' chatter (tests/test_notebooks.py leaves notebook 01 to here).
    shown = json.dumps([o for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", [])])
    noise = ("Loading weights", "Writing model shards", "loss_type=None", "is_gradient_checkpointing")
    assert "output_type" in shown and not [line for line in noise if line in shown]
