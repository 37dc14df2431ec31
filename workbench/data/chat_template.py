"""How a conversation is written for one model: its own chat template, or a plain one that says so.

An instruct model is used through its tokenizer's chat template (``<|im_start|>user …``
for SmolLM2); a prefix trained on any other rendering learns prompts the model never
sees in use (peft#869). :class:`ChatFormat` renders conversations with the tokenizer's
template when it has one, and otherwise with :data:`PLAIN_TEMPLATE` (``user: …`` /
``assistant: …`` lines, each reply closed by the end-of-sequence token), which the
run's findings name and an exported tokenizer carries, so plain transformers renders
the same text. It cuts a conversation into segments (text, learned?) — every
assistant turn learned, the rest context — and says which tokens end a turn. The
template text already holds whatever special tokens it wants, so an own template's
text is tokenized without adding any. Reading data formats is :mod:`.conversations`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import DataError, one_line
from .conversations import Conversation

__all__ = ["END_OF_TURN", "PLAIN_TEMPLATE", "ChatFormat", "chat_format"]

# For a base without a chat template (a pretrained, not instruct, model; the tiny built-ins). The newline is an
# expression: transformers renders templates with trim_blocks, which drops a newline written after a tag.
PLAIN_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
# Tokens that close a reply in the common templates when they are not the tokenizer's end-of-sequence token
# (Llama 3 ends a turn with <|eot_id|>, Gemma with <end_of_turn>, Phi-3 with <|end|>, ChatML with <|im_end|>).
END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>")


@dataclass(frozen=True)
class ChatFormat:
    """Conversations as one tokenizer's model reads them. ``own``: the tokenizer's template (else the plain one)."""

    template: str
    own: bool

    @property
    def add_special_tokens(self) -> bool:
        # An own template writes its BOS (if any) itself; the plain one leaves that to the tokenizer, as for text.
        return not self.own

    @property
    def name(self) -> str:
        return "the model's chat template" if self.own else "the plain template (role: text lines)"

    def render(self, tokenizer: Any, messages: Conversation, *, generation_prompt: bool = False) -> str:
        """``messages`` as text; with ``generation_prompt`` followed by the cue for the assistant's reply."""
        try:
            return tokenizer.apply_chat_template(messages, chat_template=self.template, tokenize=False,
                                                 add_generation_prompt=generation_prompt)  # fmt: skip
        except Exception as exc:  # a template that refuses a role or an order raises its own exception type
            raise DataError(f"{self.name} refused a conversation ({one_line(exc)}); roles: "
                            f"{', '.join(t['role'] for t in messages)}") from None  # fmt: skip

    def segments(self, tokenizer: Any, messages: Conversation) -> list[tuple[str, bool]]:
        """The rendered conversation cut into (text, learned) pieces: each assistant turn learned, from the end of
        its generation cue to the end of its turn (the end-of-turn token included), the rest context."""
        out: list[tuple[str, bool]] = []
        done = ""  # the text rendered so far: each cut is checked to extend it
        for i, turn in enumerate(messages):
            if turn["role"] != "assistant":
                continue
            cue = self.render(tokenizer, messages[:i], generation_prompt=True)
            upto = self.render(tokenizer, messages[: i + 1])
            if not (cue.startswith(done) and upto.startswith(cue)):
                raise DataError(f"{self.name} renders earlier turns differently once a reply follows, so the "
                                "replies cannot be cut out of it; train on single-turn data instead")  # fmt: skip
            reply = upto[len(cue) :]
            learned = reply.rstrip()  # the newline a template puts between turns is not part of the reply
            out += [(cue[len(done) :], False), (learned, True)]
            done = cue + learned
        return [(text, learned) for text, learned in out if text]

    def record(self, tokenizer: Any, example: Conversation) -> dict[str, str]:
        """What run.json keeps of it: which template (``own`` or ``plain``), its text, and one rendered example."""
        return {"template": "own" if self.own else "plain", "text": self.template,
                "example": self.render(tokenizer, example)}  # fmt: skip

    def stop_ids(self, tokenizer: Any) -> list[int]:
        """The token ids that end a reply: end-of-sequence, and the template's end of turn where it differs."""
        vocab = tokenizer.get_vocab()
        ids = [tokenizer.eos_token_id, *(vocab[t] for t in END_OF_TURN if self.own and t in vocab)]
        return list(dict.fromkeys(i for i in ids if i is not None))


def chat_format(tokenizer: Any) -> ChatFormat:
    """How conversations are written for ``tokenizer``: its own chat template, else :data:`PLAIN_TEMPLATE`."""
    own = getattr(tokenizer, "chat_template", None)
    if isinstance(own, dict):  # tokenizers that keep several named templates use "default" for chat
        own = own.get("default")
    return ChatFormat(own, True) if own else ChatFormat(PLAIN_TEMPLATE, False)
