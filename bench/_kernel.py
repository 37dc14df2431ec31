"""A fresh IPython kernel to measure in, as JupyterLab runs code: what bench/ scripts share.

Not part of the package and not a benchmark itself. :class:`Kernel` starts a kernel
with jupyter_client, puts ``bench/`` on its path, and answers ``call(expression)`` with
the expression's value, which the kernel prints as JSON after a marker (tracebacks go
to stderr). ``module`` is imported by the first call that uses it, not at start, so a
benchmark can time its own first import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["Kernel"]

_BENCH = Path(__file__).resolve().parent
_MARK = "BENCH-KERNEL-RESULT "


class Kernel:
    """A fresh IPython kernel that imports ``module`` (from bench/) and answers calls with JSON."""

    def __init__(self, module: str) -> None:
        from jupyter_client.manager import start_new_kernel

        self.module = module
        self._km, self._kc = start_new_kernel(kernel_name="python3", cwd=str(_BENCH.parent))
        self.call(f"sys.path.insert(0, {str(_BENCH)!r}) or 0", setup="import sys, json")

    def call(self, expression: str, *, setup: str | None = None) -> object:
        found: list = []

        def on_output(msg: dict) -> None:
            text = msg["content"].get("text", "")
            if msg["msg_type"] == "stream" and _MARK in text:
                found.append(json.loads(text.split(_MARK, 1)[1]))
            elif msg["msg_type"] == "error":
                print("\n".join(msg["content"]["traceback"]), file=sys.stderr)

        setup = f"import json, {self.module}" if setup is None else setup
        code = f"{setup}\nprint({_MARK!r} + json.dumps({expression}))"
        self._kc.execute_interactive(code, output_hook=on_output, timeout=1800)
        if not found:
            raise SystemExit(f"the kernel printed no result for {expression}; see the traceback above")
        return found[0]

    def close(self) -> None:
        self._kc.stop_channels()
        self._km.shutdown_kernel(now=True)
