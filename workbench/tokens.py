"""How a token reads to a person: vocabulary pieces as text, whitespace made visible, characters made whole.

Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen, SmolLM) store a leading space as ``Ġ`` and a newline
as ``Ċ``; SentencePiece ones (T5, Llama 2, Gemma) a space as ``▁``. A chart that labels its axes with
those pieces shows ``ĠThe`` where the text says `` The``. :func:`token_labels` decodes each token through
the tokenizer (so every vocabulary reads right) and shows a space as ``␣``, a newline as ``⏎`` and a tab
as ``⇥``, so a token's whitespace stays visible.

A character can also be split across tokens: byte-level BPE and SentencePiece's byte fallback (``<0xE4>``
pieces) store a Chinese character's three UTF-8 bytes in two or three tokens, and each alone decodes to
``�``. In a token sequence, :func:`token_labels` decodes such a run of tokens together and labels each
token with the characters that *begin* in it, so ``中`` split in three reads ``中``, ``↳中``, ``↳中``: the
first piece is the character, and a piece that only continues one is ``↳`` and that character (distinct
from the first, so a chart's categories stay apart). Tokens that are not a sequence (a sample of a
vocabulary) are labelled alone, a lone piece of a character by its bytes (``\\xe4\\xb8``).
It labels; it does not tokenize or choose what to show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["CONTINUES", "token_labels"]

CONTINUES = "↳"  # marks a token that only continues a character begun in the token before
_BROKEN = "\ufffd"  # what a decoder gives for bytes that are not (yet) a whole UTF-8 character
_VISIBLE = str.maketrans({" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "⏎"})
# How many tokens one character's bytes may spread over before a run is given up on (a UTF-8 character has
# at most four bytes; runs chain when a token ends one character and begins the next).
_MAX_RUN = 8
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")  # SentencePiece's byte fallback


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet, character to byte: printable bytes stand for themselves, the rest
    (controls, space, soft hyphen) are shifted past 255 in byte order."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shifted = [b for b in range(256) if b not in kept]
    return {chr(b): b for b in kept} | {chr(256 + k): b for k, b in enumerate(shifted)}


_BYTE_LEVEL = _byte_level_alphabet()


def token_labels(tokenizer: Any, ids: Sequence[int], *, sequence: bool = True) -> list[str]:
    """One readable label per token id (special tokens as their names, e.g. ``</s>``).

    ``sequence``: the ids are consecutive tokens of one text, so the byte pieces of a character are read
    together; False for unrelated tokens (a sample of a vocabulary), each read alone.
    """
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    special = set(getattr(tokenizer, "all_special_tokens", ()))
    labels: list[str] = []
    while len(labels) < len(pieces):
        i = len(labels)
        piece = pieces[i]
        if piece is None or piece in special:
            labels.append("?" if piece is None else piece)
            continue
        text = _decode(tokenizer, [piece])
        if _BROKEN in text:
            run = _character_run(tokenizer, pieces[i : i + _MAX_RUN], special) if sequence else None
            if run is not None:
                labels += run
                continue
            text = _bytes_text(piece) or text
        labels.append(text.translate(_VISIBLE) if text else piece)
    return labels


def _decode(tokenizer: Any, pieces: list[str]) -> str:
    text = tokenizer.convert_tokens_to_string(pieces)
    if pieces[0].startswith("▁") and not text.startswith(" "):
        text = " " + text  # SentencePiece's decoder drops the space of a text's first piece: keep it visible
    return text


def _character_run(tokenizer: Any, pieces: list[str], special: set[str]) -> list[str] | None:
    """Labels for the shortest run of ``pieces`` (from the first) that decodes to whole characters, or None.

    Each token is labelled with the characters that begin in it; one in which none begins continues the
    character before it.
    """
    decoded = []  # the text of the run's first k + 1 pieces, for each k
    for k, piece in enumerate(pieces):
        if piece is None or piece in special:
            return None
        decoded.append(_decode(tokenizer, pieces[: k + 1]))
        if _BROKEN not in decoded[-1]:
            break
    else:
        return None  # cut off mid-character (a truncated text), or a piece that is itself "�"
    whole = decoded[-1]
    labels, start = [], 0
    for text in decoded:
        complete = text.rstrip(_BROKEN)
        # Characters begun so far: the whole ones, and the one whose first bytes the text ends with.
        end = len(complete) + (len(complete) < len(text))
        begun = whole[start:end].translate(_VISIBLE)
        labels.append(begun or CONTINUES + whole[start - 1 : start].translate(_VISIBLE))
        start = end
    return labels


def _bytes_text(piece: str) -> str | None:
    """A byte piece's bytes as text, the bytes of an unfinished character escaped (``\\xe4\\xb8``); None for
    a piece that is not made of bytes."""
    byte = _BYTE_PIECE.fullmatch(piece)
    if byte:
        raw = bytes([int(byte.group(1), 16)])
    elif all(c in _BYTE_LEVEL for c in piece):
        raw = bytes(_BYTE_LEVEL[c] for c in piece)
    else:
        return None
    return raw.decode("utf-8", errors="backslashreplace")
