"""What a dataset asks for — text, classification, regression, tagging, chat or language modelling — as data.

A :class:`DataKind` owns everything that differs between kinds of data, whatever model
learns them: its standard columns; how a generative model learns a row (its layout: a
source and its target, a conversation's replies, or every token of a text); which of its
columns become training labels (the raw cells are read by :mod:`workbench.data.values`);
how a row reads as (input, output) for a generative model (a chat row's input is
the conversation before its last reply); how generated text is read back as a prediction
(or a class is ranked instead); and how predictions are scored (:mod:`workbench.metrics`,
headline first). Which model learns a kind, and how (a head or generated text), is
:mod:`workbench.models.objectives`' concern; finding and splitting files is
:mod:`workbench.data.sources`'.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from datasets import Dataset

from .. import metrics as m
from ..errors import DataError
from .conversations import as_conversation
from .entity_text import entity_text, read_entities, tag_text_form
from .values import Splits, as_number, as_text, check_text, format_number, missing, row_name, to_label_ids

if TYPE_CHECKING:
    from .task_data import TaskData

__all__ = ["DATA_KINDS", "DataKind", "data_kind"]


class DataKind:
    """The behaviour shared by all kinds; each kind below fills in what differs."""

    name: str = ""
    roles: tuple[str, ...] = ("", "")
    metrics: tuple[str, ...] = ()
    has_label_names = False
    # How a generative model learns a row: "pair" (source -> target, the target learned), "conversation"
    # (a chat template, every assistant turn learned) or "whole" (one text, every token learned).
    layout = "pair"
    # Are predictions generated and read back? Language modelling is scored by its loss alone.
    generates = True
    # The role whose repeated values make one record (text: the source; E2E gives each record ~8.5 human
    # references, one row each). Splits keep a record whole, and generation scores each record once.
    group_role: str | None = None

    def prepare(self, splits: Splits, columns: Mapping[str, str], where: Mapping[str, str],
                names: list[str] | None) -> tuple[Splits, list[str] | None]:  # fmt: skip
        """Check and convert every split's columns (named by role; ``columns``: role -> the user's column name,
        ``where``: split -> how messages name it); ``names``: a trained run's labels to keep."""
        raise NotImplementedError

    def default_metric(self, train: Dataset) -> str:
        return self.metrics[0]

    def claims(self, train: Dataset, columns: Mapping[str, str]) -> bool:
        """Do a dataset's columns, which hold this kind's roles, mean this kind? (Asked when the kind is guessed.)"""
        return True

    def loss_metrics(self, loss: float) -> dict[str, float]:
        """Metrics that follow from the validation loss alone."""
        return {}

    def label_choices(self, row: Mapping[str, Any], data: TaskData) -> list[str] | None:
        """The labels a generative model may rank to predict ``row`` (:mod:`workbench.ranking`; the prediction is
        then the index of the likeliest), or None where its output is written and read back."""
        return None

    def entity_types(self, setting: str, label_names: list[str] | None) -> list[str] | None:
        """The entity types a generative model writes this data's rows with (``setting``: DataChoice.tag_text),
        or None where it writes them otherwise (:mod:`workbench.data.entity_text`)."""
        return None

    def target_stats(self, train: Dataset) -> tuple[float, float] | None:
        """What a head's targets are scaled by (regression: the training mean and standard deviation)."""
        return None

    def render(self, row: Mapping[str, Any], data: TaskData) -> tuple[str, str]:
        """One row as (input text, expected output text), the way a generative model sees it."""
        raise NotImplementedError

    def reference(self, row: Mapping[str, Any], data: TaskData) -> Any:
        """What a prediction of ``row`` is compared with."""
        return row[self.roles[1]]

    def references(self, rows: Sequence[Mapping[str, Any]], pool: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """What each of ``rows`` is compared with: its own reference, then (with a ``group_role``) the other
        references of its record found in ``pool`` (the whole split)."""
        role, target = self.group_role, self.roles[-1]
        if role is None:
            return [[r[target]] for r in rows]
        by_record: dict[Any, list[Any]] = {}
        for row in pool or rows:
            by_record.setdefault(row[role], []).append(row[target])
        return [[r[target], *(t for t in by_record.get(r[role], []) if t != r[target])] for r in rows]

    def scored_rows(self, split: Dataset, n: int) -> list[dict[str, Any]]:
        """The rows to generate for when scoring at most ``n``: the first ``n`` rows, or with a ``group_role``
        the first row of each of the first ``n`` records (the others are its further references)."""
        if self.group_role is None:
            return [split[i] for i in range(min(n, len(split)))]
        first: dict[Any, int] = {}
        for i, key in enumerate(list(split[self.group_role])):
            if len(first) >= n:
                break
            first.setdefault(key, i)
        return [split[i] for i in first.values()]

    def as_prompt(self, prompt: Any) -> Any:
        """A prompt a person gives, as this kind's model reads it: a string (chat: a conversation)."""
        if not isinstance(prompt, str):
            raise DataError(f"a prompt for a model that learned {self.name} data is a string, not a "
                            f"{type(prompt).__name__}")  # fmt: skip
        return prompt

    def read(self, text: str, row: Mapping[str, Any], data: TaskData) -> Any:
        """A generated text as a prediction."""
        return text

    def show(self, prediction: Any, row: Mapping[str, Any], data: TaskData) -> str:
        """A prediction for ``row`` as text, for sample tables (tags: also the text a generative model learns)."""
        return str(prediction)

    def score(self, preds: Sequence[Any], rows: Sequence[Mapping[str, Any]], data: TaskData, *,
              generated: bool, pool: Sequence[Mapping[str, Any]] = ()) -> dict[str, float]:  # fmt: skip
        """Metrics of ``preds`` against ``rows``, ``data.metric`` first (``pool``: the whole split). Numbers only:
        per-label and per-type detail is :meth:`report`'s."""
        raise NotImplementedError

    def report(self, preds: Sequence[Any], rows: Sequence[Mapping[str, Any]], data: TaskData) -> dict[str, Any]:
        """Per-label detail for a final evaluation (empty where a kind has none)."""
        return {}

    def __repr__(self) -> str:
        return f"<data kind {self.name}>"


class _Text(DataKind):
    name, roles = "text", ("source", "target")
    metrics = ("bleu", "exact_match", "chrf", "rougeL", "slot_coverage")
    group_role = "source"

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        out = {}
        for split, ds in splits.items():
            texts = {}
            for role in self.roles:
                values = [as_text(v, joiner=" ; " if role == "source" else None) for v in ds[role]]
                bad = next((i for i, v in enumerate(values) if not v.strip()), None)
                if bad is not None:
                    raise DataError(f"column {columns[role]!r} is empty in {row_name(bad, where[split])}; "
                                    "fill it in or drop the row")  # fmt: skip
                texts[role] = values
            out[split] = Dataset.from_dict(texts)
        return out, None

    def default_metric(self, train: Dataset) -> str:
        return _text_headline(train["target"][:200])

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return row["source"], row["target"]

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        refs = self.references(rows, pool)  # every reference of a record (E2E has several), from the whole split
        return _headline_first(m.text_metrics(preds, refs, [r["source"] for r in rows]), data.metric)

    def report(self, preds, rows, data):  # type: ignore[no-untyped-def]
        return {"bleu_tokenizer": m.bleu_tokenizer(self.references(rows, ()))}


class _Classification(DataKind):
    name, roles = "classification", ("text", "label")
    metrics, has_label_names = ("accuracy", "f1"), True

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        check_text(splits, columns["text"], where)
        return to_label_ids(splits, "label", columns["label"], where, names, nested=False)

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return str(row["text"]), data.label_names[row["label"]]

    def read(self, text, row, data):  # type: ignore[no-untyped-def]
        return m.parse_label(text, data.label_names)

    def label_choices(self, row, data):  # type: ignore[no-untyped-def]
        return list(data.label_names)

    def show(self, prediction, row, data):  # type: ignore[no-untyped-def]
        return data.label_names[prediction] if prediction >= 0 else "(no label)"

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        out = m.classification_metrics(preds, [r["label"] for r in rows])
        if generated:
            out["unparsed"] = sum(p < 0 for p in preds) / max(len(preds), 1)
        return _headline_first(out, data.metric)

    def report(self, preds, rows, data):  # type: ignore[no-untyped-def]
        return m.classification_report(preds, [r["label"] for r in rows], data.label_names)


class _Regression(DataKind):
    name, roles = "regression", ("text", "label")
    metrics = ("rmse", "mae", "r2")

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        check_text(splits, columns["text"], where)
        out = {}
        for split, ds in splits.items():
            values = []
            for i, v in enumerate(ds["label"]):
                number = as_number(v)
                if number is None:
                    what = "is empty" if missing(v) else f"holds {v!r}, not a number,"
                    raise DataError(f"label column {columns['label']!r} {what} in {row_name(i, where[split])}; "
                                    "regression needs a number in every row")  # fmt: skip
                values.append(number)
            out[split] = ds.remove_columns("label").add_column("label", values)
        return out, None

    def claims(self, train: Dataset, columns: Mapping[str, str]) -> bool:
        """Do a dataset's columns, which hold this kind's roles, mean this kind? (Asked when the kind is guessed.)"""
        return True

    def loss_metrics(self, loss: float) -> dict[str, float]:
        """Metrics that follow from the validation loss alone."""
        return {}

    def target_stats(self, train: Dataset) -> tuple[float, float] | None:
        targets = train["label"]
        std = statistics.pstdev(targets) if len(targets) > 1 else 0.0
        return statistics.fmean(targets), std or 1.0

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return str(row["text"]), format_number(row["label"])

    def read(self, text, row, data):  # type: ignore[no-untyped-def]
        return m.parse_number(text)

    def show(self, prediction, row, data):  # type: ignore[no-untyped-def]
        return "(no number)" if prediction is None else format_number(prediction)

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        # An output with no number is a miss: it is scored as the training mean (what knowing nothing predicts).
        fallback = data.target_stats[0] if data.target_stats else 0.0
        out = m.regression_metrics([fallback if p is None else p for p in preds], [r["label"] for r in rows])
        if generated:
            out["unparsed"] = sum(p is None for p in preds) / max(len(preds), 1)
        return _headline_first(out, data.metric)

    def report(self, preds, rows, data):  # type: ignore[no-untyped-def]
        return {"true": [r["label"] for r in rows], "predicted": list(preds)}


class _Tagging(DataKind):
    name, roles = "tagging", ("tokens", "tags")
    metrics, has_label_names = ("f1", "precision", "recall"), True

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        for split, ds in splits.items():
            for i, (tokens, tags) in enumerate(zip(ds["tokens"], ds["tags"])):
                if not isinstance(tokens, list) or not isinstance(tags, list) or len(tokens) != len(tags):
                    raise DataError(f"{row_name(i, where[split])} needs a list of words and a list of tags of the same "
                                    f"length in {columns['tokens']!r} / {columns['tags']!r}")  # fmt: skip
        return to_label_ids(splits, "tags", columns["tags"], where, names, nested=True)

    def entity_types(self, setting, label_names):  # type: ignore[no-untyped-def]
        return tag_text_form(setting, label_names or [])

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return " ".join(row["tokens"]), self.show(self.reference(row, data), row, data)

    def reference(self, row, data):  # type: ignore[no-untyped-def]
        return [data.label_names[t] for t in row["tags"]]

    def read(self, text, row, data):  # type: ignore[no-untyped-def]
        if data.entity_types:
            return read_entities(text, row["tokens"], data.entity_types)
        return m.parse_tags(text, len(row["tokens"]), data.label_names)

    def show(self, prediction, row, data):  # type: ignore[no-untyped-def]
        return entity_text(row["tokens"], prediction) if data.entity_types else " ".join(prediction)

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        return _headline_first(m.tagging_metrics(preds, [self.reference(r, data) for r in rows]), data.metric)

    def report(self, preds, rows, data):  # type: ignore[no-untyped-def]
        from seqeval.metrics import classification_report
        from sklearn.metrics import classification_report as token_report

        refs = [self.reference(r, data) for r in rows]
        # Entity level (what F1 means here), then token level: scikit-learn's report over every word's tag, the
        # one seed 003's worked example prints.
        entities = classification_report(refs, list(preds), zero_division=0).rstrip()
        tokens = token_report([t for r in refs for t in r], [t for p in preds for t in p], zero_division=0).rstrip()
        return {"text": f"entity level (seqeval)\n{entities}\n\ntoken level (scikit-learn)\n{tokens}",
                "per_type": m.tagging_per_type(preds, refs)}  # fmt: skip


class _Mixture(DataKind):
    """Several tasks as one text-to-text dataset (:mod:`workbench.data.mixture`); each task scored by its kind."""

    name, roles = "mixture", ("source", "target")
    metrics = ("task_mean",)

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        raise DataError("a mixture is built from its tasks' datasets, not read from one file")

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return row["source"], row["target"]

    def scored_rows(self, split, n):  # type: ignore[no-untyped-def]
        """One row per task and source, in the split's order (a record's other references are its member's pool)."""
        seen: set[tuple[str, str]] = set()
        rows = []
        for i, key in enumerate(zip(split["task"], split["source"])):
            if len(rows) >= n:
                break
            if key not in seen:
                seen.add(key)
                rows.append(split[i])
        return rows

    def read(self, text, row, data):  # type: ignore[no-untyped-def]
        member = data.members[row["task"]]
        return member.data_kind.read(text, member.split(row["split"])[row["row"]], member)

    def label_choices(self, row, data):  # type: ignore[no-untyped-def]
        member = data.members[row["task"]]  # a classification task ranks its own labels, in its own terms
        return member.data_kind.label_choices(member.split(row["split"])[row["row"]], member)

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        out: dict[str, float] = {}
        shares = []  # each task's headline as a share of its best value
        for task, member in data.members.items():
            mine = [i for i, r in enumerate(rows) if r["task"] == task]
            if not mine:
                continue
            split = member.split(rows[mine[0]]["split"])
            scores = member.data_kind.score([preds[i] for i in mine], [split[rows[i]["row"]] for i in mine], member,
                                            generated=generated, pool=split)  # fmt: skip
            out |= {f"{task}/{k}": v for k, v in scores.items()}
            info = m.METRICS[member.metric]
            if info.higher_is_better:
                shares.append(scores[member.metric] / info.best)
        return {"task_mean": sum(shares) / len(shares) if shares else float("nan"), **out}


class _Chat(DataKind):
    """Conversations (:mod:`workbench.data.conversations` reads the formats into ``messages``); a generative model
    learns every assistant turn and is scored on generating the last one from the turns before it."""

    name, roles = "chat", ("messages",)
    metrics = ("bleu", "exact_match", "chrf", "rougeL")
    layout = "conversation"

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        return splits, None  # read and checked as conversations by sources, whatever format they came in

    def default_metric(self, train: Dataset) -> str:
        return _text_headline([m[-1]["content"] for m in train["messages"][:200]])

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return row["messages"][:-1], row["messages"][-1]["content"]

    def as_prompt(self, prompt):  # type: ignore[no-untyped-def]
        return as_conversation(prompt)

    def reference(self, row, data):  # type: ignore[no-untyped-def]
        return row["messages"][-1]["content"]

    def references(self, rows, pool):  # type: ignore[no-untyped-def]
        return [[r["messages"][-1]["content"]] for r in rows]

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        return _headline_first(m.text_metrics(preds, self.references(rows, pool)), data.metric)

    def report(self, preds, rows, data):  # type: ignore[no-untyped-def]
        return {"bleu_tokenizer": m.bleu_tokenizer(self.references(rows, ()))}


class _LanguageModelling(DataKind):
    """Plain text, every token learned: the continued pretraining of a decoder; perplexity leads (lower is better)."""

    name, roles = "lm", ("text",)
    metrics = ("perplexity",)
    layout, generates = "whole", False

    def claims(self, train: Dataset, columns: Mapping[str, str]) -> bool:
        # A text column beside other text columns is more likely a labelled set with an unusual label name.
        mine = set(columns.values())
        return not any(getattr(f, "dtype", "") in ("string", "large_string") for name, f in train.features.items()
                       if name not in mine)  # fmt: skip

    def prepare(self, splits, columns, where, names):  # type: ignore[no-untyped-def]
        for split, ds in splits.items():
            bad = next((i for i, v in enumerate(ds["text"]) if not isinstance(v, str) or not v.strip()), None)
            if bad is not None:
                raise DataError(f"column {columns['text']!r} is empty or not text in {row_name(bad, where[split])}; "
                                "fill it in or drop the row")  # fmt: skip
        return splits, None

    def loss_metrics(self, loss: float) -> dict[str, float]:
        return {"perplexity": math.exp(min(loss, 700.0))}  # exp overflows past ~709

    def render(self, row, data):  # type: ignore[no-untyped-def]
        return "", row["text"]

    def score(self, preds, rows, data, *, generated, pool=()):  # type: ignore[no-untyped-def]
        return {}


DATA_KINDS: dict[str, DataKind] = {
    k.name: k for k in (_Text(), _Classification(), _Regression(), _Tagging(), _Mixture(), _Chat(),
                        _LanguageModelling())
}  # fmt: skip


def data_kind(name: str) -> DataKind:
    """The kind called ``name``, or a one-line error listing the kinds."""
    try:
        return DATA_KINDS[name]
    except KeyError:
        raise DataError(f"unknown dataset kind {name!r}; choose one of {', '.join(DATA_KINDS)}") from None


# -- helpers ----------------------------------------------------------------------------------


def _text_headline(targets: Sequence[str]) -> str:
    # One-word answers: exact match says it plainly; longer outputs: BLEU, the generation standard.
    lengths = [m.word_count(t) for t in targets]
    return "exact_match" if lengths and statistics.median(lengths) <= 3 else "bleu"


def _headline_first(metrics: dict[str, Any], headline: str) -> dict[str, Any]:
    return {headline: metrics[headline], **metrics} if headline in metrics else metrics
