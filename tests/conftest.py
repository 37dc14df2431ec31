"""Shared fixtures: an isolated built-in model cache, seeds, and a factory for tiny runs."""

from __future__ import annotations

import os
import socket
import warnings

import pytest

# Built-in models materialize once per test session, outside the user's cache.
os.environ.setdefault("PREFIX_WORKBENCH_HOME", os.path.join(os.environ.get("TMPDIR", "/tmp"), "wb-test-home"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _hub_online() -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=3):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any("hub" in item.keywords for item in items) and not _hub_online():
        skip = pytest.mark.skip(reason="needs the Hugging Face Hub (offline here)")
        for item in items:
            if "hub" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_and_quiet():
    import torch

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
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
