"""How much of a dataset a tokenizer can read: the share of tokens it does not know.

A word-level vocabulary (the built-in tiny models) maps every word it never saw to
one unknown token, and a prefix cannot learn to write what the model cannot spell: a
run on such data trains to a high loss and nothing says why. :func:`tokenizer_coverage`
tokenizes a sample of the rows (as a generative model reads and writes them) and
counts unknown tokens; pre-flight (:func:`workbench.prefix.preflight`) turns a high
share into a warning. Tokenizers without an unknown token (byte-level BPE) read
everything, and get no figure. Nothing here loads data or models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .conversations import show_source

if TYPE_CHECKING:
    from .sources import TaskData

__all__ = ["Coverage", "tokenizer_coverage"]


@dataclass(frozen=True)
class Coverage:
    """Shares (0-1) of source and target tokens that are the tokenizer's unknown token, over ``rows`` rows."""

    source_unknown: float
    target_unknown: float
    rows: int
    vocabulary: str  # e.g. "word-level vocabulary of 145 tokens"


def tokenizer_coverage(tokenizer: Any, data: TaskData, *, sample: int = 200) -> Coverage | None:
    """Unknown-token shares on the first ``sample`` training rows; None if the tokenizer has no unknown token."""
    unk = tokenizer.unk_token_id
    if unk is None:
        return None
    rows = data.train.select(range(min(sample, len(data.train))))
    pairs = [(show_source(s), t) for s, t in map(data.render, rows)]
    shares = []
    for texts in ([s for s, _ in pairs], [t for _, t in pairs]):
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
        total = sum(len(x) for x in ids)
        shares.append(sum(t == unk for x in ids for t in x) / total if total else 0.0)
    backend = getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)
    model = {"WordLevel": "word-level", "WordPiece": "WordPiece", "Unigram": "unigram", "BPE": "BPE"}.get(
        type(backend).__name__, ""
    )
    return Coverage(shares[0], shares[1], len(pairs), f"{model} vocabulary of {len(tokenizer):,} tokens".strip())
