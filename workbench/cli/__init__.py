"""The ``prefix-workbench`` command line: the notebook's runs, headless.

One module per group of subcommands, each adding its parsers with :func:`register`:
``train`` (:mod:`.train`), ``evaluate`` and ``generate`` on exported runs (:mod:`.runs`),
``analyse`` (:mod:`.analyse`), ``sweep`` (:mod:`.sweep`), ``compare`` and ``multitask`` (:mod:`.studies`),
``models`` and ``datasets`` (:mod:`.listings`), ``fetch`` (:mod:`.fetch`). Any
:class:`~workbench.errors.WorkbenchError` ends the command with one line on stderr and
exit status 2, never a traceback. The CLI holds no training logic; it imports the
training stack only once a command has checked its input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..config_flags import config_from_args
from ..errors import WorkbenchError
from . import analyse, fetch, listings, runs, studies, sweep, train
from ._common import EXIT_DIVERGED, EXIT_OUT_OF_MEMORY, EXIT_STOPPED, EXIT_USAGE, EXIT_WRITE, Parser

__all__ = [
    "EXIT_DIVERGED",
    "EXIT_OUT_OF_MEMORY",
    "EXIT_STOPPED",
    "EXIT_USAGE",
    "EXIT_WRITE",
    "build_parser",
    "config_from_args",
    "main",
]

_GROUPS = (train, runs, analyse, sweep, studies, listings, fetch)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="prefix-workbench", description="Prefix-tune language models (PEFT), headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in _GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit:  # argparse has printed --help, or an argument's one-line error
        return exit.code if isinstance(exit.code, int) else 0
    try:
        return args.handler(args)
    except WorkbenchError as exc:
        print(f"prefix-workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
