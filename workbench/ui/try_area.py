"""The panel's "Try it" section: type a prompt, watch the frozen base and the prefix reply, see the attention.

Reply runs :func:`workbench.try_it.try_prompt` on the panel's latest run, or on a run
directory typed beside the button (loaded once and kept), streaming both replies side by
side token by token; Stop ends the reply in progress. Then the attention onto the prefix
for that very prompt is drawn: the layer × head shares and the per-token map over the
person's own words. While the run trains, a prompt waits for the next step boundary and
is answered on the training thread between two steps (training pauses for it), so the
prefix is never read half updated; otherwise it runs in a thread of its own (in the cell
on Colab). For a chat run the box is one user turn. The section has no logic of its own.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as w

from .loader import import_training_stack, start_work
from .views import COLORS, AttentionView, say_failure

if TYPE_CHECKING:
    from ..run import Run
    from ..try_it import Replies

__all__ = ["TryArea"]

_REPLY = "min-height:48px;border:1px solid #ddd;padding:4px 6px;white-space:pre-wrap;font-size:13px"


class TryArea:
    """The prompt box, Reply / Stop, the two replies and the attention for the prompt; ``box`` is the section.

    ``current()`` gives the panel's latest run (or None), its label, and whether it is training.
    """

    def __init__(self, mode: str, current: Callable[[], tuple[Run | None, str, bool]], *,
                 foreground: bool = False) -> None:  # fmt: skip
        self.current, self.foreground = current, foreground
        self.prompt = w.Textarea(placeholder="a prompt (for a chat run: your message)", rows=2,
                                 layout=w.Layout(width="100%"))  # fmt: skip
        self.path = w.Text(placeholder="run directory (empty: the panel's current run)", description="run",
                           layout=w.Layout(width="340px"))  # fmt: skip
        self.button = w.Button(description="Reply", icon="comment", button_style="info", layout=w.Layout(width="110px"))
        self.stop_button = w.Button(description="Stop", icon="stop", layout=w.Layout(width="110px"), disabled=True)
        self.status = w.HTML("<i>during or after a run: the frozen base's and the prefix's replies to your own "
                             "words</i>")  # fmt: skip
        self.base, self.prefix = w.HTML(""), w.HTML("")
        self.attention = AttentionView(mode)
        replies = w.HBox([w.VBox([w.HTML("<b>frozen base (no prefix)</b>"), self.base], layout=w.Layout(width="50%")),
                          w.VBox([w.HTML("<b>with the prefix</b>"), self.prefix], layout=w.Layout(width="50%"))],
                         layout=w.Layout(width="100%"))  # fmt: skip
        self.box = w.VBox([self.prompt, w.HBox([self.path, self.button, self.stop_button]), self.status, replies,
                           self.attention.box], layout=w.Layout(width="100%"))  # fmt: skip
        self.last: Replies | None = None
        self._loaded: dict[str, Run] = {}  # run directories typed here, loaded once
        self._stop = threading.Event()
        self._pending: tuple[Run, str] | None = None  # a prompt waiting for the training run's next step
        self._active = False  # from a click until its replies are shown (or failed)
        self._replying = ""  # whose reply is streaming
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.button.on_click(lambda _b: self.ask())
        self.stop_button.on_click(lambda _b: self._stop.set())

    def ask(self, prompt: str | None = None, *, wait: bool = False) -> Replies | None:
        """Answer ``prompt`` (default: the box's text) with the base and the prefix; the :class:`Replies` when it
        ran here (foreground or ``wait``), None while it waits for a training step or runs in a thread."""
        text = (self.prompt.value if prompt is None else prompt).strip()
        if not text:
            self.say("type a prompt first", "error")
            return None
        try:
            run = self._target()
        except Exception as exc:
            say_failure(self.say, "loading the run", exc)
            return None
        if run is None:
            self.say("nothing to try yet: train a run, or type an exported run's directory", "error")
            return None
        with self._lock:
            if self._active:
                self.say("a reply is already on its way; press Stop first", "warning")
                return None
            self._begin()
            # Read under the lock: training_ended takes it too, so a prompt left waiting is always answered.
            if run is self.current()[0] and self.current()[2]:  # answered between two steps (serve_pending)
                self._pending = (run, text)
                self.say("replying at the next step boundary (training pauses for it)…")
                return None
        done: list[Replies] = []
        self._thread = start_work(lambda: self._answer(run, text, done), name="workbench-try",
                                  foreground=self.foreground, wait=wait)  # fmt: skip
        return done[-1] if done else None

    def serve_pending(self) -> None:
        """Answer a prompt that waits for the training run; the panel calls this between two training steps."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self._answer(*pending, [])

    def training_ended(self) -> None:
        """A prompt still waiting when training ended is answered now, in a thread of its own."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self._thread = start_work(lambda: self._answer(*pending, []), name="workbench-try",
                                      foreground=self.foreground)  # fmt: skip

    def say(self, message: str, level: str = "info") -> None:
        self.status.value = f"<span style='color:{COLORS[level]}'>{html.escape(message)}</span>"

    # -- inside ----------------------------------------------------------------------------------

    def _target(self) -> Run | None:
        path = self.path.value.strip()
        if not path:
            return self.current()[0]
        if path not in self._loaded:
            self.say(f"loading {path}…")
            import_training_stack()
            from ..run import Run

            self._loaded = {path: Run.load(path)}  # the latest typed directory only: a base model is large
        return self._loaded[path]

    def _begin(self) -> None:
        self._active, self._replying, self._stop = True, "", threading.Event()
        self.attention.materialize()  # on the page before the replies come: the maps then fit their column
        self.button.disabled, self.stop_button.disabled = True, False
        self._show("base", "")
        self._show("prefix", "")
        self._replying = ""

    def _answer(self, run: Run, text: str, done: list[Replies]) -> None:
        try:
            replies = run.try_it(text, on_text=self._show, stop=self._stop.is_set)
            done.append(replies)
            self.last = replies
            if replies.stopped:
                self.say("stopped", "warning")
            else:
                assert replies.attention is not None
                self.attention.show(replies.attention)
                self.say(f"replies at step {run.history.last_step}; the attention below is for this prompt", "ok")
        except Exception as exc:
            say_failure(self.say, "trying a prompt", exc)
        finally:
            self.button.disabled, self.stop_button.disabled = False, True
            self._active = False

    def _show(self, which: str, text: str) -> None:
        if text and which != self._replying:
            self._replying = which
            self.say("the frozen base replies…" if which == "base" else "the prefix replies…")
        box = self.base if which == "base" else self.prefix
        box.value = f"<div class='wb-reply-{which}' style='{_REPLY}'>{html.escape(text)}</div>"
