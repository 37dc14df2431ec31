"""Known-benign library chatter, silenced around the workbench's own calls and nowhere else.

Loading a tiny model prints a ``Loading weights`` progress bar, saving one ``Writing
model shards``, and ``datasets`` a bar for every map and filter the workbench runs on a
user's rows; PEFT's constructor reads a property transformers 5 deprecated and so warns on
every run. None of it is the user's to act on, and real warnings drown in it. :func:`quiet`
turns off the progress bars of the libraries in :data:`_BARS` and ignores exactly the
warnings in :data:`BENIGN` (by category and message) for the duration of a call, then puts
the progress bars back as they were; every other warning still shows. It does not touch
logging levels or warning filters outside the ``with`` block.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from .process_state import held

__all__ = ["BENIGN", "quiet"]

# (category, message regex): warnings libraries give about their own internals on every run.
BENIGN: tuple[tuple[type[Warning], str], ...] = (
    # PEFT 0.21's PeftModel.__init__ reads model.is_gradient_checkpointing (transformers 5 renamed it).
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated"),
)

# Each library's progress-bar switch: its module, then the names of "is it on", "off" and "on". Only a library
# already imported is switched (every module that calls one imports it first), so a model load does not
# import datasets and a data load does not import transformers.
_BARS: dict[str, tuple[str, str, str]] = {
    "transformers.utils.logging": ("is_progress_bar_enabled", "disable_progress_bar", "enable_progress_bar"),
    "datasets": ("is_progress_bar_enabled", "disable_progress_bars", "enable_progress_bars"),
}


@contextmanager
def quiet() -> Iterator[None]:
    """No progress bars and no :data:`BENIGN` warnings inside the block (re-entrant, thread-safe: the bars come
    back when the last block open in any thread ends)."""
    with ExitStack() as stack:
        for name, (is_on, off, on) in _BARS.items():
            if name.split(".")[0] in sys.modules:
                module = importlib.import_module(name)
                switch = lambda enabled, m=module, off=off, on=on: getattr(m, on if enabled else off)()  # noqa: E731
                stack.enter_context(held(("progress bars", name), getattr(module, is_on), switch, lambda _: False))
        with warnings.catch_warnings():
            for category, message in BENIGN:
                warnings.filterwarnings("ignore", message=message, category=category)
            yield
