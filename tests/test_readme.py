"""README's Python example runs as written (with fewer steps), so the public face it shows stays true."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_from_python_example_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text[text.index("## From Python") :], re.S).group(1)
    # Fewer steps: the example's default run and its train-on-to-400 become 6 and 10 steps.
    code = code.replace("run = wb.Run.create(cfg)", "cfg.train.steps = 6\nrun = wb.Run.create(cfg)", 1)
    code = code.replace("run.train(steps=400)", "run.train(steps=10)").replace("callbacks=[print]", "callbacks=[]")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)
    run = scope["run"]  # the exported run, loaded back
    assert run.history.last_step == 10 and (tmp_path / "runs" / "my-prefix" / "adapter").is_dir()
    assert scope["probe"].share.shape[0] == run.model.config.num_hidden_layers


def test_the_offline_route_for_a_packaged_model_runs(packaged_model, make_config, tmp_path, monkeypatch):
    # On a stand-in packaged model, so that it runs everywhere; tests/models/test_real_model.py runs it on SmolLM2.
    import torch

    import workbench as wb

    run = wb.Run.create(make_config("tiny-packaged"))
    run.export(tmp_path / "runs" / "smollm2-e2e")
    text = README.read_text(encoding="utf-8")
    [code] = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "runs/smollm2-e2e/adapter" in block]
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code.replace('"smollm2-135m"', '"tiny-packaged"'), str(README), "exec"), scope)
    batch = scope["tok"](["name[Aromi] food[Italian] ->"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(scope["model"].eval()(**batch).logits, run.model.eval()(**batch).logits)


def test_the_layout_names_every_module():
    text = README.read_text(encoding="utf-8")
    layout = text[text.index("## Layout") : text.index("## When things go wrong")]
    package = README.parent / "workbench"
    modules = {p.name for p in package.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert not sorted(m for m in modules if m not in layout)
    folders = {p.parent.name + "/" for p in package.rglob("*.py") if p.parent != package}
    assert not sorted(f for f in folders if f not in layout)
