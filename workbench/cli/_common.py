"""What every subcommand shares: exit statuses, an argument parser that errs in one line, a bar over trainings."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from ..history import ENDINGS, Event, StepEvent

__all__ = ["EXIT_DIVERGED", "EXIT_OUT_OF_MEMORY", "EXIT_STOPPED", "EXIT_USAGE", "EXIT_WRITE", "Parser", "StepsBar"]

EXIT_USAGE = 2  # bad input: a one-line message, nothing half-written
EXIT_STOPPED = ENDINGS["stopped"].exit_code  # interrupted (Ctrl-C / SIGTERM); the run directory is still written
EXIT_DIVERGED = ENDINGS["non-finite"].exit_code  # non-finite loss; the last good prefix is written
EXIT_OUT_OF_MEMORY = ENDINGS["out-of-memory"].exit_code  # the prefix of the last completed step is written
EXIT_WRITE = 4  # the disk refused the run directory; a rescue copy of the prefix is written elsewhere


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the error; one line is enough, --help has the rest.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


class StepsBar:
    """One progress bar over several trainings run one after another (a study's methods or tasks), each counting
    its steps from 1; call it with their events. ``write`` prints a line above the bar."""

    def __init__(self, total: int, desc: str) -> None:
        from tqdm.auto import tqdm

        self._bar: Any = tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)
        self._last = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepEvent):
            self._bar.update(event.step - self._last if event.step > self._last else event.step)  # a new training
            self._last = event.step
            self._bar.set_postfix(loss=f"{event.loss:.3f}", refresh=False)

    def write(self, line: str) -> None:
        self._bar.write(line)

    def close(self) -> None:
        self._bar.close()
