"""Task metrics, computed with well-kept libraries: scikit-learn, seqeval, sacrebleu.

* classification: accuracy and macro F1 (scikit-learn);
* tagging: entity-level precision / recall / F1, overall and per entity type (seqeval);
* text: BLEU (sacrebleu) and exact match, plus *slot coverage* when the sources are
  E2E-style records (``name[Aromi] food[Italian]``): the share of outputs that
  mention every attribute value of their record.

Predictions arrive as labels or strings; this module does not run models. For
generative models, :func:`parse_label` and :func:`parse_tags` read the label word or
the tag sequence back out of generated text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "HEADLINE",
    "classification_metrics",
    "parse_label",
    "parse_tags",
    "slot_coverage",
    "tagging_metrics",
    "text_metrics",
]

# The one number per dataset kind that charts and tables lead with.
HEADLINE = {"classification": "accuracy", "tagging": "f1", "text": "slot_coverage"}

_SLOT = re.compile(r"(\w+)\[([^\]]*)\]")
# How a few E2E attribute values are phrased in text (others appear verbatim).
_SURFACE = {
    ("familyFriendly", "yes"): r"(?<!not )family friendly",
    ("familyFriendly", "no"): r"not family friendly",
}


def classification_metrics(pred: Sequence[int], ref: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-averaged F1 over integer labels (-1 marks an unparseable prediction)."""
    from sklearn.metrics import accuracy_score, f1_score  # imported on use: scikit-learn is slow to import

    return {
        "accuracy": float(accuracy_score(ref, pred)),
        "f1": float(f1_score(ref, pred, average="macro", labels=sorted(set(ref)), zero_division=0)),
    }


def tagging_metrics(pred: Sequence[Sequence[str]], ref: Sequence[Sequence[str]]) -> dict[str, object]:
    """Entity-level micro precision/recall/F1 and a per-type report (seqeval, strict IOB2 off)."""
    from seqeval.metrics import classification_report

    report = classification_report(list(ref), list(pred), output_dict=True, zero_division=0)
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    per_type = {
        name: {"precision": float(r["precision"]), "recall": float(r["recall"]), "f1": float(r["f1-score"]),
               "support": int(r["support"])}
        for name, r in report.items() if not name.endswith("avg")
    }  # fmt: skip
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "per_type": per_type,
    }


def slot_coverage(source: str, output: str) -> float | None:
    """1.0 if ``output`` mentions every ``attr[value]`` of ``source``, else 0.0; None if no slots."""
    slots = _SLOT.findall(source)
    if not slots:
        return None
    text = _norm(output)
    for attr, value in slots:
        pattern = _SURFACE.get((attr, value)) or re.escape(_norm(value))
        if not re.search(pattern, text):
            return 0.0
    return 1.0


def text_metrics(pred: Sequence[str], ref: Sequence[str], sources: Sequence[str] | None = None) -> dict[str, float]:
    """BLEU (0-100), exact match and, for E2E-style sources, slot coverage (both 0-1)."""
    import sacrebleu

    out = {
        "bleu": float(sacrebleu.corpus_bleu(list(pred), [list(ref)], force=True).score) if pred else 0.0,
        "exact_match": sum(_norm(p) == _norm(r) for p, r in zip(pred, ref)) / max(len(pred), 1),
    }
    if sources is not None:
        scores = [slot_coverage(s, p) for s, p in zip(sources, pred)]
        known = [s for s in scores if s is not None]
        if known:
            out["slot_coverage"] = sum(known) / len(known)
    return out


def parse_label(text: str, label_names: Sequence[str]) -> int:
    """The index of the first label name in generated ``text``, or -1 if none appears."""
    words = text.strip().split()
    lowered = {name.lower(): i for i, name in enumerate(label_names)}
    for word in words:
        if word.lower() in lowered:
            return lowered[word.lower()]
    return -1


def parse_tags(text: str, n_tokens: int, tag_names: Sequence[str]) -> list[str]:
    """``n_tokens`` tags read from generated text; unknown or missing tags become ``O``."""
    known = set(tag_names)
    tags = [t if t in known else "O" for t in text.split()[:n_tokens]]
    return tags + ["O"] * (n_tokens - len(tags))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"([^\w\s])", r" \1 ", text.lower()).split())
