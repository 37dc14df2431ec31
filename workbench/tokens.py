"""How a token reads to a person: vocabulary pieces as text, whitespace made visible.

Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen, SmolLM) store a leading space as ``Ġ`` and a newline
as ``Ċ``; SentencePiece ones (T5, Llama 2, Gemma) a space as ``▁``. A chart that labels its axes with
those pieces shows ``ĠThe`` where the text says `` The``. :func:`token_labels` decodes each token on its
own through the tokenizer (so every vocabulary reads right, byte pieces of one character included as
far as one token can say) and shows a space as ``␣``, a newline as ``⏎`` and a tab as ``⇥``, so a
token's whitespace stays visible. It labels; it does not tokenize or choose what to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["token_labels"]

_VISIBLE = str.maketrans({" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "⏎"})


def token_labels(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """One readable label per token id (special tokens as their names, e.g. ``</s>``)."""
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    special = set(getattr(tokenizer, "all_special_tokens", ()))
    out = []
    for piece in pieces:
        if piece is None:
            out.append("?")
            continue
        text = piece if piece in special else tokenizer.convert_tokens_to_string([piece])
        if piece.startswith("▁") and not text.startswith(" "):
            text = " " + text  # SentencePiece's decoder drops the space of a text's first piece: keep it visible
        out.append(text.translate(_VISIBLE) if text else piece)
    return out
