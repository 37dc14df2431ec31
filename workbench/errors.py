"""User-facing errors of the workbench.

Every failure a user can cause (a mistyped model id, a missing file, a setting out
of range) is raised as a :class:`WorkbenchError` whose message is one line that says
what was wrong and what to do. The CLI prints that line and exits 2; the notebook
panel shows it in place. Bugs in the workbench itself are not wrapped: they keep
their traceback.
"""

from __future__ import annotations

__all__ = [
    "BusyError",
    "CompatibilityError",
    "ConfigError",
    "DataError",
    "ExportError",
    "ModelLoadError",
    "TrainingError",
    "WorkbenchError",
    "WriteError",
    "one_line",
]


class WorkbenchError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class ConfigError(WorkbenchError, ValueError):
    """A setting is missing, of the wrong type, or out of its allowed range."""


class ModelLoadError(WorkbenchError):
    """A model could not be found or loaded."""


class DataError(WorkbenchError):
    """A dataset could not be found, read or formatted."""


class CompatibilityError(WorkbenchError):
    """The model cannot be prefix-tuned with the requested settings."""


class TrainingError(WorkbenchError):
    """Training cannot start or go on as asked (a precision the device lacks, time-throttled logging under
    DDP). How a training *ended* — out of memory and a non-finite loss included — is never raised: it is the
    last end event of the history."""


class ExportError(WorkbenchError):
    """A run directory could not be written or read back."""


class WriteError(ExportError):
    """The disk refused a write (full, read-only, no permission, a file in the way); the run itself is intact.

    ``rescued``: where a copy of the trained adapter was saved instead, when one could be.
    """

    def __init__(self, message: str, rescued: str | None = None) -> None:
        super().__init__(message)
        self.rescued = rescued


class BusyError(WorkbenchError, RuntimeError):
    """The run is training or being analysed in another thread; wait for it or stop it first."""


def one_line(problem: BaseException | str, limit: int = 200) -> str:
    """The first non-empty line of an exception's message (or of a text), at most ``limit`` characters; an
    exception with no message gives its type's name. What a one-line error quotes of its cause."""
    text = str(problem).strip()
    line = text.splitlines()[0].strip() if text else type(problem).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"
