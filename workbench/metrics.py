"""Task metrics, computed with well-kept libraries: scikit-learn, seqeval, sacrebleu, rouge-score.

* classification: accuracy and macro F1, and a per-label report (scikit-learn);
* regression: RMSE, MAE and R² (scikit-learn); lower RMSE is better;
* tagging: entity-level precision / recall / F1, overall and per entity type (seqeval);
* text: exact match, BLEU and chrF (sacrebleu), ROUGE-L (Google's ``rouge-score``, an
  optional extra), and *slot coverage* where the sources are ``key[value]`` records.

Text in any script: BLEU splits the references' words with the sacrebleu tokenizer that fits
their script (:func:`bleu_tokenizer`: ``zh`` for Chinese characters, ``char`` for scripts written
without spaces such as Thai or Japanese kana, ``13a`` otherwise); ROUGE-L reads each character of
those scripts as a word and keeps the words of every other script (rouge-score's own tokenizer
keeps ASCII only); exact match compares NFKC forms, so full-width ``ＡＢＣ１２３`` equals ``ABC123``.

:data:`METRICS` says for every metric whether higher is better and what a perfect
score is, so charts, tables and sweeps rank runs the right way round. Every metric
gives its best value when every prediction equals its reference (tested, in Chinese, Japanese,
Thai and Russian too). Predictions arrive as labels, numbers or strings; this module does not
run models, and reading generated text back as a prediction is :mod:`workbench.data.kinds`' job.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = [
    "METRICS",
    "Metric",
    "bleu_tokenizer",
    "classification_metrics",
    "classification_report",
    "is_better",
    "is_record",
    "metric_info",
    "most_confused",
    "parse_label",
    "parse_number",
    "parse_tags",
    "regression_metrics",
    "require_metric_library",
    "slot_coverage",
    "tagging_metrics",
    "text_metrics",
    "word_count",
]


@dataclass(frozen=True)
class Metric:
    """How to read a metric: its direction and its perfect value."""

    name: str
    higher_is_better: bool
    best: float
    description: str
    library: str | None = None  # an optional package it needs (pip name)

    @property
    def direction(self) -> str:
        return "maximize" if self.higher_is_better else "minimize"


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", True, 1.0, "share of rows with the right label"),
    Metric("f1", True, 1.0, "macro F1 over labels (classification) or entity-level micro F1 (tagging)"),
    Metric("precision", True, 1.0, "entity-level micro precision"),
    Metric("recall", True, 1.0, "entity-level micro recall"),
    Metric("rmse", False, 0.0, "root mean squared error"),
    Metric("mae", False, 0.0, "mean absolute error"),
    Metric("r2", True, 1.0, "coefficient of determination"),
    Metric("exact_match", True, 1.0, "share of outputs equal to a reference (case, spacing and full-width forms "
                                     "ignored)"),
    Metric("bleu", True, 100.0, "corpus BLEU (sacrebleu, effective n-gram order, a tokenizer that fits the "
                                "references' script), all references of a source"),
    Metric("chrf", True, 100.0, "character n-gram F-score (sacrebleu)"),
    Metric("rougeL", True, 100.0, "ROUGE-L F-measure with stemming (rouge-score), the summarization standard; "
                                  "characters as words in scripts written without spaces",
           library="rouge-score"),
    Metric("perplexity", False, 1.0, "exp of the mean loss per learned token (language modelling)"),
    Metric("slot_coverage", True, 1.0, "share of outputs that mention every key[value] their reference mentions"),
    Metric("task_mean", True, 1.0, "a mixture's mean over tasks of each headline as a share of its best "
                                   "(lower-is-better headlines left out)"),
)}  # fmt: skip


def metric_info(name: str) -> Metric:
    """The metric called ``name``, also as a mixture reports it per task (``"toy-e2e/bleu"``)."""
    return METRICS[name.rsplit("/", 1)[-1]]


def is_better(metric: str, a: float, b: float) -> bool:
    """Is ``a`` a better value of ``metric`` than ``b``? (NaN is never better.)"""
    if not math.isfinite(a):
        return False
    if not math.isfinite(b):
        return True
    return a > b if metric_info(metric).higher_is_better else a < b


def require_metric_library(metric: str) -> None:
    """Raise a one-line :class:`ConfigError` naming what to install when ``metric`` needs a missing package."""
    library = METRICS[metric].library
    if library is None:
        return
    try:
        __import__(library.replace("-", "_"))
    except ImportError:
        raise ConfigError(f"metric {metric!r} needs {library}: pip install 'prefix-workbench[rouge]'") from None


# -- classification and regression -----------------------------------------------------------


def classification_metrics(pred: Sequence[int], ref: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-averaged F1 over integer labels (-1 marks an unparseable prediction)."""
    from sklearn.metrics import accuracy_score, f1_score  # imported on use: scikit-learn is slow to import

    return {
        "accuracy": float(accuracy_score(ref, pred)),
        "f1": float(f1_score(ref, pred, average="macro", labels=sorted(set(ref)), zero_division=0)),
    }


def classification_report(pred: Sequence[int], ref: Sequence[int], names: Sequence[str]) -> dict[str, object]:
    """Per-label precision / recall / F1 / support, its text form, and the confusion matrix (rows: true)."""
    from sklearn.metrics import classification_report as report
    from sklearn.metrics import confusion_matrix

    labels = list(range(len(names)))
    kwargs = {"labels": labels, "target_names": list(names), "zero_division": 0}
    confusion = confusion_matrix(ref, pred, labels=labels).tolist()
    return {
        "per_label": report(ref, pred, output_dict=True, **kwargs),
        "text": report(ref, pred, **kwargs),
        "confusion": confusion,
        "labels": list(names),
        "confused": most_confused(confusion, names),
    }


def most_confused(confusion: Sequence[Sequence[int]], names: Sequence[str], top: int = 10) -> list[list[Any]]:
    """The ``top`` most frequent mistakes as [true label, predicted label, count], most frequent first: with many
    classes (77 intents) the matrix is too big to read, the pairs are not."""
    pairs = [[names[t], names[p], int(n)] for t, row in enumerate(confusion) for p, n in enumerate(row) if t != p and n]
    return sorted(pairs, key=lambda x: (-x[2], x[0], x[1]))[:top]


def regression_metrics(pred: Sequence[float], ref: Sequence[float]) -> dict[str, float]:
    """RMSE (the headline, lower is better), MAE and R²."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    mse = float(mean_squared_error(ref, pred))
    # R² is undefined for fewer than two rows or constant references; report NaN rather than a made-up 0.
    r2 = float(r2_score(ref, pred)) if len(ref) > 1 and len(set(ref)) > 1 else float("nan")
    return {"rmse": math.sqrt(mse), "mae": float(mean_absolute_error(ref, pred)), "r2": r2}


# -- tagging ----------------------------------------------------------------------------------


def tagging_metrics(pred: Sequence[Sequence[str]], ref: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level micro precision/recall/F1 (seqeval, strict IOB2 off)."""
    micro, per_type = _seqeval(pred, ref)
    if not per_type and list(pred) == list(ref):
        # No entities anywhere and none predicted: nothing was missed or invented.
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    return {"precision": float(micro["precision"]), "recall": float(micro["recall"]), "f1": float(micro["f1-score"])}


def tagging_per_type(pred: Sequence[Sequence[str]], ref: Sequence[Sequence[str]]) -> dict[str, dict[str, float]]:
    """Precision/recall/F1/support per entity type, for a report (a structure, so never among the metrics)."""
    return {
        name: {"precision": float(r["precision"]), "recall": float(r["recall"]), "f1": float(r["f1-score"]),
               "support": int(r["support"])}
        for name, r in _seqeval(pred, ref)[1].items()
    }  # fmt: skip


def _seqeval(pred: Sequence[Sequence[str]], ref: Sequence[Sequence[str]]) -> tuple[dict, dict[str, dict]]:
    """seqeval's report as (micro average, {entity type: its row})."""
    from seqeval.metrics import classification_report as report

    result = report(list(ref), list(pred), output_dict=True, zero_division=0)
    micro = result.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    return micro, {name: row for name, row in result.items() if not name.endswith("avg")}


# -- text -------------------------------------------------------------------------------------

_SLOT = re.compile(r"(\w+)\[([^\]]*)\]")
# How a few E2E attribute values are phrased in text (others appear verbatim).
_SURFACE = {
    ("familyFriendly", "yes"): r"(?<!not )family friendly",
    ("familyFriendly", "no"): r"not family friendly",
}


def slot_coverage(source: str, output: str, reference: str | None = None) -> float | None:
    """1.0 if ``output`` mentions every ``attr[value]`` of ``source`` that ``reference`` mentions, else 0.0.

    Without a reference every slot counts. None when the source holds no slots (or the
    reference mentions none of them): the row says nothing about coverage.
    """
    slots = [(a, v) for a, v in _SLOT.findall(source) if reference is None or _mentions(reference, a, v)]
    if not slots:
        return None
    return 1.0 if all(_mentions(output, a, v) for a, v in slots) else 0.0


def _mentions(text: str, attr: str, value: str) -> bool:
    pattern = _SURFACE.get((attr, value)) or re.escape(_norm(value))
    return re.search(pattern, _norm(text)) is not None


def is_record(source: str) -> bool:
    """Does ``source`` look like a ``key[value] key[value]`` record?"""
    return len(_SLOT.findall(source)) >= 1 and not _SLOT.sub("", source).strip(" ,;|")


# Unicode blocks of the scripts written without spaces between words, and the sacrebleu tokenizer that splits
# them: "zh" parts Chinese characters and leaves the rest to 13a; "char" parts every character, the choice for
# Thai, Lao, Tibetan, Myanmar, Khmer and Japanese kana when no word tokenizer (MeCab and the like) is installed.
_UNSPACED_SCRIPTS: tuple[tuple[int, int, str, str], ...] = (
    (0x2E80, 0x2FDF, "CJK and Kangxi radicals", "zh"),
    (0x3400, 0x4DBF, "CJK ideographs extension A", "zh"),
    (0x4E00, 0x9FFF, "CJK ideographs", "zh"),
    (0xF900, 0xFAFF, "CJK compatibility ideographs", "zh"),
    (0x20000, 0x3134F, "CJK ideographs extensions B-G", "zh"),
    (0x0E00, 0x0E7F, "Thai", "char"),
    (0x0E80, 0x0EFF, "Lao", "char"),
    (0x0F00, 0x0FFF, "Tibetan", "char"),
    (0x1000, 0x109F, "Myanmar", "char"),
    (0x1780, 0x17FF, "Khmer", "char"),
    (0x19E0, 0x19FF, "Khmer symbols", "char"),
    (0x3040, 0x309F, "Hiragana", "char"),
    (0x30A0, 0x30FF, "Katakana", "char"),
    (0x31F0, 0x31FF, "Katakana extensions", "char"),
    (0xFF66, 0xFF9F, "Halfwidth katakana", "char"),
)
# BLEU takes the first tokenizer whose scripts hold more than this share of the references' letters, else
# 13a. "char" comes first and wants a fair share: Japanese mixes kana with Chinese characters, and "zh" would
# leave its kana runs whole; yet "char" would also split every word of a spaced text quoting one Thai word.
# "zh" wants a single Chinese character: outside them it tokenizes as 13a does, so mixed text loses nothing.
_BLEU_RULES: tuple[tuple[str, float], ...] = (("char", 0.2), ("zh", 0.0))
_BLEU_DEFAULT = "13a"


def _script_class(tokenizers: Sequence[str]) -> str:
    """A regex character class (without brackets) of the scripts that ``tokenizers`` split."""
    return "".join(f"{chr(a)}-{chr(b)}" for a, b, _, tok in _UNSPACED_SCRIPTS if tok in tokenizers)


_LETTER = re.compile(r"[^\W\d_]")
# A script's letters only: a Thai or Tibetan vowel sign is a mark, and counts neither here nor in _LETTER.
_SCRIPT_LETTERS = {name: re.compile(rf"(?=[^\W\d_])[{_script_class((name,))}]") for name, _ in _BLEU_RULES}
_UNSPACED = _script_class([tok for _, _, _, tok in _UNSPACED_SCRIPTS])
# Within a word: one character of an unspaced script, or a run of anything else.
_WORD_PIECE = re.compile(rf"[{_UNSPACED}]|[^{_UNSPACED}]+")


def bleu_tokenizer(refs: Iterable[Sequence[str]]) -> str:
    """The sacrebleu tokenizer BLEU splits words with for these references: ``zh``, ``char`` or ``13a``.

    ``refs`` as :func:`text_metrics` takes them (every reference of each row). Decided by the Unicode
    blocks of the references' letters, never by the outputs, so every run on one dataset is scored alike.
    """
    text = "\n".join("\n".join(row) for row in refs)
    if text.isascii():
        return _BLEU_DEFAULT  # the common case, decided without counting
    letters = len(_LETTER.findall(text))
    for name, share in _BLEU_RULES:
        if len(_SCRIPT_LETTERS[name].findall(text)) > share * letters:
            return name
    return _BLEU_DEFAULT


def word_count(text: str) -> int:
    """How many words ``text`` holds, each character of a script written without spaces counted as one
    (an unspaced Chinese sentence is a dozen words, not one)."""
    return sum(len(_WORD_PIECE.findall(word)) for word in text.split())


class _ScriptWords:
    """A rouge-score tokenizer for any script: ASCII text exactly as rouge-score's own tokenizer reads it
    (lower case, ``[a-z0-9]+`` words, Porter stems); other text NFKC-folded and lower-cased, its words
    being runs of letters, marks and digits, and each character of an unspaced script a word of its own."""

    def __init__(self) -> None:
        from rouge_score.tokenizers import DefaultTokenizer

        self._ascii = DefaultTokenizer(use_stemmer=True)

    def tokenize(self, text: str) -> list[str]:
        if text.isascii():
            return self._ascii.tokenize(text)
        folded = unicodedata.normalize("NFKC", text).lower()
        # Letters (L), marks (M) and numbers (N) make words: a Devanagari vowel sign stays in its word.
        spaced = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
        return [token for word in spaced.split() for piece in _WORD_PIECE.findall(word)
                for token in (self._ascii.tokenize(piece) if piece.isascii() else [piece])]  # fmt: skip


def text_metrics(
    pred: Sequence[str],
    refs: Sequence[Sequence[str]],
    sources: Sequence[str] | None = None,
) -> dict[str, float]:
    """Exact match (0-1), BLEU, chrF and ROUGE-L (0-100), and slot coverage (0-1) for record sources.

    ``refs[i]`` holds every reference of row i (a record with several human references);
    BLEU and chrF use them all, exact match accepts any, ROUGE-L takes the closest, slot coverage the first.
    BLEU's tokenizer follows the references' script (:func:`bleu_tokenizer` names it, for a report).
    """
    from sacrebleu.metrics import BLEU, CHRF

    pred, refs = list(pred), [list(r) for r in refs]
    if not pred:
        return {"exact_match": 0.0}
    # sacrebleu wants reference *streams*: stream k holds the k-th reference of every row (None if it has fewer).
    width = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(width)]
    out = {
        "exact_match": sum(any(_norm(p) == _norm(x) for x in r) for p, r in zip(pred, refs)) / len(pred),
        # Effective order: one-word outputs have no 4-grams, and an exact one must not score 0.
        "bleu": float(BLEU(tokenize=bleu_tokenizer(refs), effective_order=True).corpus_score(pred, streams).score),
        "chrf": float(CHRF().corpus_score(pred, streams).score),
    }
    try:
        from rouge_score import rouge_scorer
    except ImportError:  # an optional extra; asking for it as the metric says what to install
        pass
    else:
        scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_ScriptWords())
        # Against the closest reference, as E2E's scripts score a record with several.
        best = [max(scorer.score(x, p)["rougeL"].fmeasure for x in r) for p, r in zip(pred, refs)]
        out["rougeL"] = 100 * sum(best) / len(pred)
    if sources is not None and any(is_record(s) for s in sources):
        scores = [slot_coverage(s, p, r[0]) for s, p, r in zip(sources, pred, refs)]
        known = [s for s in scores if s is not None]
        if known:
            out["slot_coverage"] = sum(known) / len(known)
    return out


# -- reading generated text back ----------------------------------------------------------------


def parse_label(text: str, label_names: Sequence[str]) -> int:
    """The index of the first label name in generated ``text``, or -1 if none appears.

    Multi-word names ("very good") are matched as phrases, longest first.
    """
    norm = f" {_norm(text)} "
    found = [(norm.find(f" {_norm(n)} "), -len(n), i) for i, n in enumerate(label_names)]
    found = [f for f in found if f[0] >= 0]  # (position, -length, index): the earliest, then the longest
    return min(found)[2] if found else -1


_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


def parse_number(text: str) -> float | None:
    """The first number in generated ``text`` (``3``, ``-2.5``, ``.5``, ``1e3``), or None."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    value = float(match.group())
    return value if math.isfinite(value) else None


def parse_tags(text: str, n_tokens: int, tag_names: Sequence[str]) -> list[str]:
    """``n_tokens`` tags read from generated text; unknown or missing tags become ``O``."""
    known = set(tag_names)
    tags = [t if t in known else "O" for t in text.split()[:n_tokens]]
    return tags + ["O"] * (n_tokens - len(tags))


def _norm(text: str) -> str:
    # NFKC first: full-width letters, digits and punctuation (common in Chinese and Japanese text) become ASCII.
    return " ".join(re.sub(r"([^\w\s])", r" \1 ", unicodedata.normalize("NFKC", text).lower()).split())
