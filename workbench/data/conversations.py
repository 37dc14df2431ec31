"""The shapes people keep chat and instruction data in, read as one: a list of messages.

Fine-tuning data for instruct models comes in a few formats, each recognized by its
columns (:data:`FORMATS`): ``messages`` (``{"role", "content"}`` turns, roles system /
user / assistant), ShareGPT ``conversations`` (``{"from", "value"}``: system / human /
gpt), TRL's ``prompt`` / ``completion`` and Alpaca's ``instruction`` / ``input`` /
``output`` (LLaMA-Factory's default). :func:`read_conversations` turns whichever a
dataset holds into one ``messages`` column of checked conversations — every turn has a
known role and text, and the last turn is the assistant's reply — or says in one line
which row is wrong. Rendering a conversation for a model (its chat template) is
:mod:`.chat_template`'s job; nothing here tokenizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from ..errors import DataError

__all__ = ["FORMATS", "Conversation", "ConversationFormat", "as_conversation", "find_format", "read_conversations",
           "show_source"]  # fmt: skip

Conversation = list[dict[str, str]]
ROLES = ("system", "user", "assistant")
# ShareGPT's speakers, and the other names data in the wild gives the three roles.
_ROLE_NAMES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant",
               "model": "assistant", "bot": "assistant"}  # fmt: skip


@dataclass(frozen=True)
class ConversationFormat:
    """One way to keep conversations in columns: what it is called, the columns that give it away, the
    columns it may also use, and how one row becomes messages."""

    name: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    to_messages: Callable[[Mapping[str, Any]], Conversation]

    @property
    def description(self) -> str:
        return f"{self.name} ({' / '.join((*self.columns, *self.optional))})"


def _turns(value: Any, role_key: str, text_key: str) -> Conversation:
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise ValueError(f"a list of {{{role_key!r}, {text_key!r}}} turns is expected, found {type(value).__name__}")
    turns = []
    for turn in value:
        if role_key not in turn or text_key not in turn:
            raise ValueError(f"a turn lacks {role_key!r} or {text_key!r} (it has {', '.join(map(str, turn))})")
        turns.append({"role": _role(turn[role_key]), "content": _text(turn[text_key])})
    return turns


def _role(name: Any) -> str:
    role = _ROLE_NAMES.get(str(name).strip().lower())
    if role is None:
        raise ValueError(f"unknown role {name!r} (known: {', '.join(_ROLE_NAMES)})")
    return role


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a turn's text is a {type(value).__name__}, not a string")
    return value


def _prompt_completion(row: Mapping[str, Any]) -> Conversation:
    # TRL also keeps conversational prompt/completion: lists of messages on both sides.
    def side(value: Any, role: str) -> Conversation:
        if isinstance(value, list):
            return _turns(value, "role", "content")
        return [{"role": role, "content": _text(value)}]

    return side(row["prompt"], "user") + side(row["completion"], "assistant")


def _alpaca(row: Mapping[str, Any]) -> Conversation:
    # LLaMA-Factory's rendering: the input follows the instruction after a blank line.
    extra = row.get("input")
    instruction = _text(row["instruction"]) + (f"\n\n{_text(extra)}" if extra and str(extra).strip() else "")
    system = row.get("system")
    head = [{"role": "system", "content": _text(system)}] if system and str(system).strip() else []
    return [*head, {"role": "user", "content": instruction}, {"role": "assistant", "content": _text(row["output"])}]


FORMATS: tuple[ConversationFormat, ...] = (
    ConversationFormat("messages", ("messages",), (), lambda row: _turns(row["messages"], "role", "content")),
    ConversationFormat("ShareGPT", ("conversations",), (), lambda row: _turns(row["conversations"], "from", "value")),
    ConversationFormat("prompt-completion", ("prompt", "completion"), (), _prompt_completion),
    ConversationFormat("Alpaca", ("instruction", "output"), ("input", "system"), _alpaca),
)


def find_format(columns: list[str]) -> ConversationFormat | None:
    """The conversation format whose columns ``columns`` hold, if any."""
    return next((f for f in FORMATS if set(f.columns) <= set(columns)), None)


def read_conversations(splits: dict[str, Dataset], found: ConversationFormat,
                       where: Mapping[str, str]) -> dict[str, Dataset]:  # fmt: skip
    """Every split as one ``messages`` column of checked conversations (``where``: split -> how messages name
    it); a row that cannot be read is named in a one-line :class:`DataError`."""
    out = {}
    for split, ds in splits.items():
        conversations = []
        for i, row in enumerate(ds):
            try:
                conversations.append(_checked(found.to_messages(row)))
            except (ValueError, TypeError) as exc:
                raise DataError(f"row {i + 1} of {where[split]} is not {found.name} data: {exc}") from None
        out[split] = Dataset.from_dict({"messages": conversations})
    return out


def _checked(turns: Conversation) -> Conversation:
    if not turns:
        raise ValueError("the conversation is empty")
    if turns[-1]["role"] != "assistant":
        raise ValueError("the last turn must be the assistant's reply (the part that is learned and generated)")
    empty = next((t["role"] for t in turns if not t["content"].strip()), None)
    if empty:
        raise ValueError(f"a {empty} turn is empty")
    return turns


def as_conversation(prompt: str | Conversation) -> Conversation:
    """A prompt for a chat model: a string is one user turn; a list of messages is checked and kept."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    try:
        turns = _turns(list(prompt), "role", "content")
    except ValueError as exc:
        raise DataError(f"a chat prompt is a string or a list of {{'role', 'content'}} messages: {exc}") from None
    if not turns or turns[-1]["role"] == "assistant":
        raise DataError("a chat prompt must end with a user (or system) turn for the model to reply to")
    return turns


def show_source(source: str | Conversation) -> str:
    """An input as people read it: a string as it is, a conversation one ``role: text`` line a turn."""
    if isinstance(source, str):
        return source
    return "\n".join(f"{t['role']}: {t['content']}" for t in source)
