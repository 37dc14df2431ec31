"""One prompt, two replies: the frozen base's and the prefix's, token by token, and where the prefix was looked at.

:func:`try_prompt` asks a run's model the same prompt twice — without the prefix (the
frozen base) and with it — greedily, as evaluation does, handing each reply's text so
far to an ``on_text`` callback as its tokens arrive; then it probes the attention onto
the prefix for the prompt and the prefix's reply (:mod:`workbench.attention`: the per-token
map over the person's own words). A ``stop`` callable ends the reply in progress at its
next token and skips the rest. For a chat run the prompt is a user turn (or a list of
messages) written with the chat template, as in training. The result shows itself as a
table in a notebook. The panel's Try-it box (:mod:`workbench.ui.try_area`) is one front
end; this module knows nothing of widgets or threads.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transformers.generation.streamers import BaseStreamer

from .data.conversations import Conversation, show_source
from .errors import CompatibilityError

if TYPE_CHECKING:
    from .attention import ProbeResult
    from .run import Run

__all__ = ["Replies", "try_prompt"]

OnText = Callable[[str, str], None]  # (which reply: "base" or "prefix", its text so far)


@dataclass
class Replies:
    """The base's and the prefix's reply to one prompt, and the attention onto the prefix (None if stopped)."""

    prompt: str | Conversation
    base: str
    prefix: str
    attention: ProbeResult | None
    stopped: bool = False

    def _repr_html_(self) -> str:
        cells = [show_source(self.prompt), self.base, self.prefix]
        row = "".join(f"<td style='white-space:pre-wrap;vertical-align:top'>{html.escape(c)}</td>" for c in cells)
        return ("<table><tr><th>prompt</th><th>frozen base (no prefix)</th><th>with the prefix</th></tr>"
                f"<tr>{row}</tr></table>")  # fmt: skip


class _TextStream(BaseStreamer):
    """Hands the decoded text of the new tokens to a callback as they come, whole characters only."""

    def __init__(self, tokenizer: Any, on_text: Callable[[str], None]) -> None:
        self.tokenizer, self.on_text = tokenizer, on_text
        self.ids: list[int] = []
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # generate hands over the prompt (a decoder's start token) first
            self.prompt_seen = True
            return
        self.ids += value.reshape(-1).tolist()
        # A character whose bytes span tokens decodes to U+FFFD until its last byte arrives: wait for it.
        self.on_text(self.tokenizer.decode(self.ids, skip_special_tokens=True).rstrip("\ufffd").strip())

    def end(self) -> None:
        pass


def try_prompt(
    run: Run,
    prompt: str | Conversation,
    *,
    max_new_tokens: int | None = None,
    on_text: OnText | None = None,
    stop: Callable[[], bool] | None = None,
) -> Replies:
    """The frozen base's and the prefix's greedy replies to ``prompt``, streamed to ``on_text(which, text)``,
    and the attention onto the prefix for the prompt and the prefix's reply."""
    if not run.objective.generative:
        raise CompatibilityError(f"{run.config.model.name} learned with a {run.objective.name} head, which writes no "
                                 "reply; try a prompt on a decoder or seq2seq run")  # fmt: skip
    source = run.as_prompt(prompt)  # a one-line error before any work
    stopped = stop or (lambda: False)
    replies = {}
    for which, use_prefix in (("base", False), ("prefix", True)):
        if stopped():
            replies[which] = ""
            continue
        stream = _TextStream(run.tokenizer, lambda text, w=which: on_text(w, text)) if on_text else None
        out = run.generate([source], use_prefix=use_prefix, max_new_tokens=max_new_tokens, stop=stop, streamer=stream)
        replies[which] = out[0] if out else ""
        if on_text:  # the final text, cut as generate cuts it (a one-line task ends at its newline)
            on_text(which, replies[which])
    if stopped():
        return Replies(source, replies["base"], replies["prefix"], None, stopped=True)
    return Replies(source, replies["base"], replies["prefix"], run.probe([(source, replies["prefix"])]))
