"""Is the Hugging Face Hub reachable? Asked once, quickly, before any hub download.

``huggingface_hub`` retries an unreachable host with backoff for about 25 seconds
before it gives up. The workbench instead opens one TCP connection to the hub
endpoint with a short timeout; when that fails, loaders switch to the local cache
only (``local_files_only``), so a cached model still loads offline and a missing
one fails within seconds with a message that says why. Nothing is downloaded here.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlparse

from huggingface_hub import constants

from .process_state import held_attribute

__all__ = ["hub_reachable", "hub_timeouts", "offline_datasets", "offline_reason"]

_TIMEOUT_S = 3.0
_HUB_TIMEOUT_S = 10  # etag and download timeouts of the workbench's own hub calls (huggingface_hub: 10 and 10 s)
_CACHE_S = 60.0
_last: tuple[float, bool] | None = None


def hub_reachable() -> bool:
    """True if the hub endpoint accepts a TCP connection (cached for a minute); False in offline mode."""
    global _last
    if constants.HF_HUB_OFFLINE:
        return False
    now = time.monotonic()
    if _last is not None and now - _last[0] < _CACHE_S:
        return _last[1]
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=_TIMEOUT_S):
            ok = True
    except OSError:
        ok = False
    _last = (now, ok)
    return ok


def offline_reason() -> str:
    """Why the hub is not used, for error messages."""
    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    return f"{constants.ENDPOINT} is unreachable"


@contextmanager
def hub_timeouts() -> Iterator[None]:
    """The workbench's own hub calls give up within seconds; the process's settings come back after the block.

    huggingface_hub reads its timeouts at call time from ``constants``; a value the user set through
    ``HF_HUB_ETAG_TIMEOUT`` / ``HF_HUB_DOWNLOAD_TIMEOUT`` is kept. Nothing outside the block changes.
    """
    with ExitStack() as stack:
        for name in ("HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"):
            if name not in os.environ:
                stack.enter_context(held_attribute(constants, name, _HUB_TIMEOUT_S))
        yield


@contextmanager
def offline_datasets() -> Iterator[None]:
    """Run ``datasets.load_dataset`` against the local cache only (it reads this flag at call time)."""
    import datasets.config

    with held_attribute(datasets.config, "HF_HUB_OFFLINE", True):
        yield
