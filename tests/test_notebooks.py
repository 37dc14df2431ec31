"""Every notebook runs top to bottom offline, with its parameter cell turned down for CI."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
E2E = Path(__file__).resolve().parents[2] / "shared" / "data" / "e2e" / "devset.csv"
WNUT17 = E2E.parents[1] / "wnut17"
# Appended to each notebook's parameter cell: the same notebook, fewer steps.
SMALL = {
    "01_quickstart.ipynb": "STEPS = 20",  # as tests/test_install.py runs it
    "02_attention_on_the_prefix.ipynb": "STEPS = 40\nEVAL_EVERY = 20",
    "03_export_and_reuse.ipynb": "STEPS = 30",
    "04_sweep.ipynb": 'STEPS = 15\nLENGTHS = [1, 5]\nCOMPARE = ["prefix 1", "LoRA r=8"]\nCOMPARE_STEPS = 10',
    "05_multitask.ipynb": "STEPS = 10",
    "06_what_the_prefix_learned.ipynb": "STEPS = 30",
    "07_sweep_with_optuna.ipynb": "TRIALS = 3\nSTEPS = 12",
    "09_your_own_data.ipynb": "ROWS = 60\nSTEPS = 6",
    "10_ner_on_a_real_encoder.ipynb": f"STEPS = 4\nTRAIN_SENTENCES = 48\nDEV_SENTENCES = 12\nCOMPARE_STEPS = 2\n"
    f"METHODS = ['LoRA r=8']\nDATA = {str(WNUT17)!r}",
    "08_real_model.ipynb": "STEPS = 2\nRECORDS = [3]\nEVAL_RECORDS = 1\nMAX_NEW_TOKENS = 6\nCOMPARE = ['LoRA']\n"
    f"E2E_CSV = {str(E2E)!r}",
}
# Run elsewhere: tests/test_install.py runs the quickstart from the installed wheel, as a new user would.
ELSEWHERE = {"01_quickstart.ipynb"}
# Real models (fetched once) and real data: SmolLM2 and the E2E dev set; MiniLM and WNUT-17.
REAL = {"08_real_model.ipynb": ("smollm2", "e2e_csv"), "10_ner_on_a_real_encoder.ipynb": ("minilm",)}


def test_every_notebook_is_listed_and_has_a_parameter_cell():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)
    for name in SMALL:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert nb.metadata.kernelspec.name == "python3"  # no "select kernel" dialog in JupyterLab
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # shipped clean


@pytest.mark.parametrize("name", sorted(set(SMALL) - ELSEWHERE))
def test_notebook_runs_offline(name, tmp_path, request):
    for fixture in REAL.get(name, ()):
        request.getfixturevalue(fixture)
    if name == "10_ner_on_a_real_encoder.ipynb" and not WNUT17.is_dir():
        pytest.skip("WNUT-17 is not beside the project (../shared/data/wnut17)")

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += "\n" + SMALL[name]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if name == "03_export_and_reuse.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "with the prefix:" in printed and "[toy-sentiment]" in printed
    if name == "06_what_the_prefix_learned.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "slots: " in printed and "P0: before name" in printed
        assert (tmp_path / "runs" / "what-it-learned" / "analysis" / "slot-ablation.html").is_file()
    if name == "08_real_model.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "held-out records against" in printed and "split by record" in printed
        assert "LoRA, 3 records" in printed
    if name == "09_your_own_data.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "memory:DataFrame-" in printed and "pandas DataFrame {'train': 60} ['review', 'verdict']" in printed
        assert (tmp_path / "reviews.parquet").is_file()
    if name == "07_sweep_with_optuna.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "trial 2: " in printed and "TensorBoard: tensorboard --logdir" in printed
        assert (tmp_path / "runs" / "sweep-07" / "best" / "run.json").is_file()
    if name == "10_ner_on_a_real_encoder.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "entity level (seqeval)" in printed and "token level (scikit-learn)" in printed
        assert "LoRA r=8" in printed and "entity F1" in printed
    if name == "05_multitask.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "one prefix per task, one batch" in printed and "toy-sentiment/accuracy" in printed
