"""What every subcommand shares: exit statuses and an argument parser that errs in one line."""

from __future__ import annotations

import argparse
from typing import NoReturn

from ..history import ENDINGS

__all__ = ["EXIT_DIVERGED", "EXIT_OUT_OF_MEMORY", "EXIT_STOPPED", "EXIT_USAGE", "EXIT_WRITE", "Parser"]

EXIT_USAGE = 2  # bad input: a one-line message, nothing half-written
EXIT_STOPPED = ENDINGS["stopped"].exit_code  # interrupted (Ctrl-C / SIGTERM); the run directory is still written
EXIT_DIVERGED = ENDINGS["non-finite"].exit_code  # non-finite loss; the last good prefix is written
EXIT_OUT_OF_MEMORY = ENDINGS["out-of-memory"].exit_code  # the prefix of the last completed step is written
EXIT_WRITE = 4  # the disk refused the run directory; a rescue copy of the prefix is written elsewhere


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the error; one line is enough, --help has the rest.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")
