"""Known-benign library chatter, silenced around the workbench's own calls and nowhere else.

Loading a tiny model prints a ``Loading weights`` progress bar, saving one ``Writing
model shards``; PEFT's constructor reads a property transformers 5 deprecated and so
warns on every run. None of it is the user's to act on, and real warnings drown in it.
:func:`quiet` turns off the Hugging Face progress bars and ignores exactly the warnings
in :data:`BENIGN` (by category and message) for the duration of a call, then puts the
progress bars back as they were; every other warning still shows. It does not touch
logging levels or warning filters outside the ``with`` block.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BENIGN", "quiet"]

# (category, message regex): warnings libraries give about their own internals on every run.
BENIGN: tuple[tuple[type[Warning], str], ...] = (
    # PEFT 0.21's PeftModel.__init__ reads model.is_gradient_checkpointing (transformers 5 renamed it).
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated"),
)

_lock = threading.Lock()
_depth = 0
_bars_were_on = False


@contextmanager
def quiet() -> Iterator[None]:
    """No Hugging Face progress bars and no :data:`BENIGN` warnings inside the block (re-entrant, thread-safe)."""
    from transformers.utils import logging as hf_logging

    global _depth, _bars_were_on
    with _lock:
        if _depth == 0:
            _bars_were_on = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
        _depth += 1
    try:
        with warnings.catch_warnings():
            for category, message in BENIGN:
                warnings.filterwarnings("ignore", message=message, category=category)
            yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _bars_were_on:
                hf_logging.enable_progress_bar()
