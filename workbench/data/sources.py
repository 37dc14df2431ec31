"""Find a dataset by name and bring it into one of three standard shapes.

A :class:`DataChoice` names a built-in toy dataset, a hub dataset id (through
``datasets.load_dataset``) or a local CSV / JSON / JSONL file. Whatever the
source, the result is a :class:`TaskData`: ``train`` and ``validation`` splits
with the standard columns of its kind — ``source``/``target`` (text),
``text``/``label`` (classification) or ``tokens``/``tags`` (tagging) — and the
label names. Problems become one-line :class:`DataError` messages; nothing is
half-loaded. Tokenization is not done here (:mod:`.encode`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
from datasets import ClassLabel, Dataset, Sequence

from ..config import DataChoice
from ..errors import DataError
from ..hub import hub_reachable, offline_datasets, offline_reason
from . import toy

__all__ = ["BUILTIN_DATASETS", "CURATED_DATASETS", "ROLES", "TaskData", "load_task_data"]

# The standard columns of each dataset kind.
ROLES: dict[str, tuple[str, str]] = {
    "text": ("source", "target"),
    "classification": ("text", "label"),
    "tagging": ("tokens", "tags"),
}


@dataclass(frozen=True)
class _Builtin:
    kind: str
    make: Callable[[int, int], list[dict[str, Any]]]
    n_train: int
    n_validation: int
    description: str
    label_names: tuple[str, ...] | None = None


BUILTIN_DATASETS: dict[str, _Builtin] = {
    "toy-e2e": _Builtin("text", toy.text_examples, 4000, 300,
                        "restaurant records -> one sentence (E2E-style table-to-text)"),
    "toy-sentiment": _Builtin("classification", toy.sentiment_examples, 2000, 300,
                              "restaurant reviews -> negative / positive", toy.SENTIMENT_LABELS),
    "toy-ner": _Builtin("tagging", toy.tagging_examples, 2000, 300,
                        "BIO tags for restaurant names, food and areas", toy.TAG_NAMES),
}  # fmt: skip

# Hub datasets known to fit, with their column mapping (not downloaded here).
CURATED_DATASETS: dict[str, dict[str, Any]] = {
    "e2e_nlg": {"kind": "text", "columns": {"source": "meaning_representation", "target": "human_reference"},
                "description": "E2E NLG challenge: restaurant records -> text (the paper's table-to-text)"},
    "GEM/dart": {"kind": "text", "columns": {"source": "tripleset", "target": "target"},
                 "description": "DART: RDF triples -> text"},
    "EdinburghNLP/xsum": {"kind": "text", "columns": {"source": "document", "target": "summary"},
                          "description": "XSum: news article -> one-sentence summary (the paper's summarization)"},
    "nyu-mll/glue": {"kind": "classification", "subset": "sst2", "columns": {"text": "sentence", "label": "label"},
                     "description": "GLUE SST-2 sentiment (use subset sst2)"},
    "stanfordnlp/imdb": {"kind": "classification", "columns": {"text": "text", "label": "label"},
                         "description": "IMDB movie reviews, two classes"},
    "eriktks/conll2003": {"kind": "tagging", "columns": {"tokens": "tokens", "tags": "ner_tags"},
                          "description": "CoNLL-2003 named entities (P-tuning v2 sequence labelling)"},
}  # fmt: skip

_LOCAL_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json"}


@dataclass
class TaskData:
    """Train and validation splits in standard columns, and what kind of task they pose."""

    name: str
    kind: str  # "text" | "classification" | "tagging"
    train: Dataset
    validation: Dataset
    label_names: list[str] | None = None

    def preview(self, n: int = 3) -> list[tuple[str, str]]:
        """The first ``n`` training rows as (input, expected output) strings."""
        rows = []
        for row in self.train.select(range(min(n, len(self.train)))):
            rows.append(self.render(row))
        return rows

    def render(self, row: dict[str, Any]) -> tuple[str, str]:
        """One row as (input text, expected output text), the way a generative model sees it."""
        if self.kind == "text":
            return str(row["source"]), str(row["target"])
        if self.kind == "classification":
            return str(row["text"]), self.label_names[row["label"]]  # type: ignore[index]
        return " ".join(row["tokens"]), " ".join(self.label_names[t] for t in row["tags"])  # type: ignore[index]


def load_task_data(choice: DataChoice, seed: int = 0) -> TaskData:
    """Load and standardize ``choice``; the validation split is carved from train if absent."""
    if choice.name in BUILTIN_DATASETS:
        data = _load_builtin(choice)
    else:
        path = Path(choice.name).expanduser()
        looks_local = choice.name.startswith(("/", "./", "../", "~")) or path.suffix.lower() in _LOCAL_FORMATS
        if looks_local or path.exists():
            data = _load_local(choice, path, seed)
        else:
            data = _load_hub(choice, seed)
    if choice.max_train_examples is not None:
        if choice.max_train_examples < 1:
            raise DataError(f"max_train_examples is {choice.max_train_examples}; it must be at least 1")
        data.train = data.train.select(range(min(choice.max_train_examples, len(data.train))))
    data.validation = data.validation.select(range(min(choice.max_eval_examples, len(data.validation))))
    if len(data.train) == 0:
        raise DataError(f"dataset {choice.name!r} has no training examples")
    if len(data.validation) == 0:
        raise DataError(f"dataset {choice.name!r} has no validation examples; raise validation_fraction")
    return data


def _load_builtin(choice: DataChoice) -> TaskData:
    spec = BUILTIN_DATASETS[choice.name]
    # Disjoint seeds: validation rows are drawn independently of training rows.
    train = Dataset.from_list(spec.make(spec.n_train, 0))
    validation = Dataset.from_list(spec.make(spec.n_validation, 1_000_003))
    labels = list(spec.label_names) if spec.label_names else None
    return TaskData(choice.name, spec.kind, train, validation, labels)


def _load_local(choice: DataChoice, path: Path, seed: int) -> TaskData:
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist")
    fmt = _LOCAL_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"cannot read {path.name!r}: use a .csv, .json or .jsonl file")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        head.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path.name!r} is not UTF-8 text; save it as UTF-8 CSV/JSON") from None
    if b"\x00" in head:
        raise DataError(f"{path.name!r} looks binary; expected UTF-8 CSV/JSON text")
    try:
        raw = datasets.load_dataset(fmt, data_files=str(path), split="train")
    except Exception as exc:  # datasets raises many types for malformed files
        if "corresponds to no data" in str(exc):
            raise DataError(f"{path.name!r} has no rows") from None
        raise DataError(f"could not parse {path.name!r} as {fmt}: {_first_line(exc)}") from None
    return _standardize(choice, _split(raw, None, choice, seed), infer_kind=True)


def _load_hub(choice: DataChoice, seed: int) -> TaskData:
    curated = CURATED_DATASETS.get(choice.name, {})
    subset = choice.subset or curated.get("subset")
    online = hub_reachable()
    try:
        if online:
            raw = datasets.load_dataset(choice.name, subset)
        else:  # the local datasets cache only; no retries against an unreachable hub
            with offline_datasets():
                raw = datasets.load_dataset(choice.name, subset)
    except Exception as exc:
        where = "the hub said" if online else f"{offline_reason()} and the local cache said"
        raise DataError(
            f"could not load dataset {choice.name!r}: not a built-in or local file, and {where}: {_first_line(exc)}"
        ) from None
    train = raw["train"] if "train" in raw else raw[next(iter(raw))]
    val = next((raw[s] for s in ("validation", "valid", "dev", "test") if s in raw), None)
    return _standardize(choice, _split(train, val, choice, seed), infer_kind=False)


def _split(train: Dataset, val: Dataset | None, choice: DataChoice, seed: int) -> tuple[Dataset, Dataset]:
    if val is not None:
        return train, val
    if len(train) < 2:
        raise DataError(f"dataset {choice.name!r} has {len(train)} row(s); need at least 2 to split off validation")
    parts = train.train_test_split(test_size=choice.validation_fraction, seed=seed)
    return parts["train"], parts["test"]


def _standardize(choice: DataChoice, splits: tuple[Dataset, Dataset], infer_kind: bool) -> TaskData:
    train, val = splits
    curated = CURATED_DATASETS.get(choice.name, {})
    mapping = {**curated.get("columns", {}), **choice.columns}
    kind = curated.get("kind") or _infer_kind(train.column_names, mapping, choice.name)
    roles = ROLES[kind]
    columns = {role: mapping.get(role, role) for role in roles}
    missing = [f"{role} (column {col!r})" for role, col in columns.items() if col not in train.column_names]
    if missing:
        raise DataError(
            f"dataset {choice.name!r} lacks {', '.join(missing)}; its columns are {', '.join(train.column_names)}."
            " Map them with columns={'role': 'column'} (CLI: --column role=column)"
        )
    train, val = (_select(ds, columns) for ds in (train, val))
    label_names = None
    if kind != "text":
        train, val, label_names = _encode_labels(train, val, roles[1])
    if kind == "text":
        train, val = (ds.map(_stringify_text) for ds in (train, val))
    return TaskData(choice.name, kind, train, val, label_names)


def _infer_kind(columns: list[str], mapping: dict[str, str], name: str) -> str:
    for kind, roles in ROLES.items():  # the roles the user mapped say what they meant
        if mapping and set(mapping) <= set(roles):
            return kind
    for kind, roles in ROLES.items():
        if all(mapping.get(role, role) in columns for role in roles):
            return kind
    raise DataError(
        f"cannot tell what task {name!r} is: expected columns source+target, text+label or tokens+tags, "
        f"found {', '.join(columns)}; map yours with --column role=column"
    )


def _select(ds: Dataset, columns: dict[str, str]) -> Dataset:
    ds = ds.select_columns(list(columns.values()))
    return ds.rename_columns({col: role for role, col in columns.items() if col != role})


def _encode_labels(train: Dataset, val: Dataset, col: str) -> tuple[Dataset, Dataset, list[str]]:
    """Labels as ints with names: ClassLabel names when present, else the sorted distinct values."""
    feature = train.features[col]
    inner = feature.feature if isinstance(feature, Sequence) else getattr(feature, "feature", feature)
    if isinstance(feature, list):
        inner = feature[0]
    if isinstance(inner, ClassLabel):
        return train, val, list(inner.names)
    values = set()
    for ds in (train, val):
        for v in ds[col]:
            values.update(v if isinstance(v, list) else [v])
    names = sorted(str(v) for v in values)
    index = {n: i for i, n in enumerate(names)}

    def to_ids(row: dict[str, Any]) -> dict[str, Any]:
        v = row[col]
        return {col: [index[str(x)] for x in v] if isinstance(v, list) else index[str(v)]}

    return train.map(to_ids), val.map(to_ids), names


def _stringify_text(row: dict[str, Any]) -> dict[str, str]:
    # Some hub datasets keep lists (several references, triple sets); use the first / joined form.
    out = {}
    for key in ("source", "target"):
        v = row[key]
        if isinstance(v, list):
            v = (
                " ; ".join(" | ".join(x) if isinstance(x, list) else str(x) for x in v)
                if key == "source"
                else (str(v[0]) if v else "")
            )
        out[key] = "" if v is None else str(v)
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
