"""Turn standardized rows into token ids, labels and padded batches.

Generative models (causal LM, seq2seq) see most datasets as source → target text
and are trained on the target tokens only: labels are -100 on the source, the
separator and padding. Decoders see ``"{source} {separator} {target}</s>"``;
seq2seq models get the source in the encoder and the target as labels. Chat rows and
plain texts reach a decoder as segments (text, learned?) — a conversation rendered
with its chat template, every reply learned; a text learned whole — each segment
tokenized on its own, as a prompt is at generation time. Sequence
heads get the text with a class id (or a number, for regression), token heads their
words with one tag on each word's first sub-token. Which of these a model gets is its
objective's choice (:mod:`workbench.models.objectives`). Batches are padded on the right.
Too-long examples are truncated and counted, never dropped silently. Nothing here
loads data or models.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from transformers import PreTrainedTokenizerBase

if TYPE_CHECKING:
    from ..config import DataChoice
    from ..models.objectives import Objective
    from .sources import TaskData

__all__ = [
    "Collator",
    "EncodedSplit",
    "encode_causal",
    "encode_segments",
    "encode_seq2seq",
    "encode_split",
    "encode_splits",
    "encode_texts",
    "encode_words",
    "format_prompt",
]

IGNORE = -100  # label value that cross-entropy skips


@dataclass
class EncodedSplit:
    """Token ids and labels of one split, plus how many rows had to be truncated."""

    features: list[dict[str, Any]]
    truncated: int

    def __len__(self) -> int:
        return len(self.features)


def format_prompt(source: str, separator: str) -> str:
    """What a decoder is given to continue: the source then the separator (nothing, with no source)."""
    return f"{source} {separator}".strip() if separator and source else source


def encode_split(
    data: TaskData,
    split: str,
    tokenizer: PreTrainedTokenizerBase,
    objective: Objective,
    *,
    max_length: int,
    separator: str,
) -> EncodedSplit:
    """Encode ``data.train``, ``.validation`` or ``.test`` for ``objective``; warns once with a truncation count."""
    out = objective.encode(getattr(data, split), data, tokenizer, max_length=max_length, separator=separator)
    if out.truncated:
        warnings.warn(
            f"{out.truncated} of {len(out)} {split} examples of {data.name!r} were longer than "
            f"max_length={max_length} tokens and were truncated",
            stacklevel=2,
        )
    return out


def encode_splits(
    data: TaskData, tokenizer: PreTrainedTokenizerBase, objective: Objective, choice: DataChoice
) -> tuple[EncodedSplit, EncodedSplit]:
    """Train and validation, encoded alike with ``choice``'s ``max_length`` and ``separator``."""
    kwargs = {"max_length": choice.max_length, "separator": choice.separator}
    return (encode_split(data, "train", tokenizer, objective, **kwargs),
            encode_split(data, "validation", tokenizer, objective, **kwargs))  # fmt: skip


def encode_causal(
    pairs: list[tuple[str, str]], tok: PreTrainedTokenizerBase, max_length: int, separator: str
) -> EncodedSplit:
    """(source, target) pairs for a decoder: ``"{source} {separator} {target}</s>"``, loss on the target only."""
    sources = tok([format_prompt(s, separator) for s, _ in pairs])["input_ids"]
    targets = tok([" " + t for _, t in pairs], add_special_tokens=False)["input_ids"]
    feats, truncated = [], 0
    for src, tgt in zip(sources, targets):
        tgt = [*tgt, tok.eos_token_id]
        if len(src) + len(tgt) > max_length:
            truncated += 1
            # Keep as much target as fits after at most half the budget of source.
            src = src[: max(max_length // 2, max_length - len(tgt))]
            tgt = tgt[: max_length - len(src)]
        feats.append({"input_ids": src + tgt, "labels": [IGNORE] * len(src) + tgt})
    return EncodedSplit(feats, truncated)


def encode_segments(
    rows: list[list[tuple[str, bool]]],
    tok: PreTrainedTokenizerBase,
    max_length: int,
    *,
    add_special_tokens: bool,
    end_with_eos: bool = False,
) -> EncodedSplit:
    """Rows of (text, learned) segments for a decoder: labels on the learned segments' tokens only. The first
    segment gets the tokenizer's special tokens when ``add_special_tokens``; ``end_with_eos`` closes a row with
    EOS (learned). A row longer than ``max_length`` loses its end."""
    feats, truncated = [], 0
    for segments in rows:
        ids: list[int] = []
        labels: list[int] = []
        for k, (text, learned) in enumerate(segments):
            piece = tok(text, add_special_tokens=add_special_tokens and k == 0)["input_ids"]
            ids += piece
            labels += piece if learned else [IGNORE] * len(piece)
        if end_with_eos:
            ids, labels = [*ids, tok.eos_token_id], [*labels, tok.eos_token_id]
        if len(ids) > max_length:
            truncated += 1
            ids, labels = ids[:max_length], labels[:max_length]
        feats.append({"input_ids": ids, "labels": labels})
    return EncodedSplit(feats, truncated)


def encode_seq2seq(pairs: list[tuple[str, str]], tok: PreTrainedTokenizerBase, max_length: int) -> EncodedSplit:
    """(source, target) pairs for an encoder-decoder: the source in, the target as labels."""
    src_full = tok([s for s, _ in pairs])["input_ids"]
    tgt_full = tok(text_target=[t for _, t in pairs])["input_ids"]
    feats, truncated = [], 0
    for src, tgt in zip(src_full, tgt_full):
        if len(src) > max_length or len(tgt) > max_length:
            truncated += 1
            # keep the closing special token (</s>) when cutting
            src = [*src[: max_length - 1], src[-1]] if len(src) > max_length else src
            tgt = [*tgt[: max_length - 1], tgt[-1]] if len(tgt) > max_length else tgt
        feats.append({"input_ids": src, "labels": tgt})
    return EncodedSplit(feats, truncated)


def encode_texts(
    texts: list[str], labels: list[int] | list[float], tok: PreTrainedTokenizerBase, max_length: int
) -> EncodedSplit:
    """One label (a class id or a number) per text, for a sequence head."""
    enc = tok(texts, truncation=True, max_length=max_length)
    full = tok(texts)["input_ids"]
    feats = [{"input_ids": ids, "labels": lab} for ids, lab in zip(enc["input_ids"], labels)]
    return EncodedSplit(feats, sum(len(f) > max_length for f in full))


def encode_words(
    words: list[list[str]], tags: list[list[int]], tok: PreTrainedTokenizerBase, max_length: int
) -> EncodedSplit:
    """One tag per word, on the word's first sub-token, for a token head.

    A feature also says which word each labelled token stands for (``words``) and how many words the row has
    (``n_words``): a word may have no token at all (an emoji variation selector in WNUT-17 tokenizes to nothing;
    truncation cuts words off), and predictions must still line up with every word (:meth:`Objective.predictions`).
    """
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
    full_lengths = [len(ids) for ids in tok(words, is_split_into_words=True)["input_ids"]]
    feats = []
    for i, ids in enumerate(enc["input_ids"]):
        labels, labelled, previous = [], [], None
        for word in enc.word_ids(i):
            # Label the first sub-token of each word; specials and continuations are ignored.
            first = word is not None and word != previous
            labels.append(tags[i][word] if first else IGNORE)
            if first:
                labelled.append(word)
            previous = word
        feats.append({"input_ids": ids, "labels": labels, "words": labelled, "n_words": len(tags[i])})
    return EncodedSplit(feats, sum(n > max_length for n in full_lengths))


class Collator:
    """Pads a list of features on the right into tensors (ids with pad, labels with -100)."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
            mask[i, : len(f["input_ids"])] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        labels = [f["labels"] for f in features]
        if isinstance(labels[0], float):  # a regression head
            batch["labels"] = torch.tensor(labels, dtype=torch.float)
        elif isinstance(labels[0], int):  # a classification head
            batch["labels"] = torch.tensor(labels, dtype=torch.long)
        else:
            lwidth = max(len(lab) for lab in labels)
            lab = torch.full((len(features), lwidth), IGNORE, dtype=torch.long)
            for i, row in enumerate(labels):
                lab[i, : len(row)] = torch.tensor(row)
            batch["labels"] = lab
        return batch
