"""Find a dataset by name and bring it into the standard shape of its kind.

A :class:`DataChoice` names a built-in toy dataset, a hub dataset id (through
``datasets.load_dataset``) or a local CSV / JSON / JSONL file. Whatever the source,
the result is a :class:`TaskData`: ``train``, ``validation`` and (when there is one)
``test`` splits with the standard columns of its kind — ``source``/``target`` (text),
``text``/``label`` (classification, regression) or ``tokens``/``tags`` (tagging) —,
the label names and the headline metric. The kind is read off the columns (a column of
decimals is a regression target) unless the choice names it; checking and converting
labels is the kind's job (:mod:`workbench.data.kinds`), carving the held-out splits
:mod:`workbench.data.splits`'. Problems become one-line
:class:`DataError` messages; nothing is half-loaded. Tokenization is not done here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import datasets
from datasets import ClassLabel, Dataset, List, Value

from ..config import DataChoice
from ..errors import DataError, one_line
from ..hub import hub_reachable, hub_timeouts, offline_datasets, offline_reason
from ..metrics import is_record, require_metric_library
from ..quiet import quiet
from .catalog import BUILTIN_DATASETS, CURATED_DATASETS, KNOWN_COLUMNS, Builtin
from .conversations import FORMATS, find_format, read_conversations
from .files import looks_like_file, read_local
from .held import held_splits, is_held_name
from .kinds import DATA_KINDS, DataKind, data_kind
from .mixture import mix_task_data, task_name
from .splits import limit, records_note, repeats, split_off
from .task_data import TaskData

__all__ = ["BUILTIN_DATASETS", "CURATED_DATASETS", "ROLES", "TaskData", "load_task_data"]

# The standard columns of each dataset kind.
ROLES: dict[str, tuple[str, ...]] = {name: kind.roles for name, kind in DATA_KINDS.items()}


_VALIDATION_NAMES = ("validation", "valid", "dev")


def load_task_data(choice: DataChoice, seed: int = 0, *, label_names: list[str] | None = None,
                   carried_columns: dict[str, str] | None = None) -> TaskData:  # fmt: skip
    """Load, check and standardize ``choice``; validation (and test) splits are carved from train if absent.

    ``label_names``: the labels of a trained run, so that another dataset is read with the same ids.
    ``carried_columns``: a trained run's column mapping, for the roles ``choice.columns`` leaves open where the
    dataset has that column (another file with the run's columns reads as the run's own did).
    Several datasets (``choice.mix``) or a task column make a mixture (:mod:`.mixture`).
    """
    if choice.metric not in (None, "task_mean") and (choice.mix or "task" in choice.columns):
        raise DataError(f"a mixture of tasks leads with task_mean (each task keeps its own metrics), not "
                        f"{choice.metric!r}")  # fmt: skip
    if choice.mix:
        members: dict[str, TaskData] = {}
        for i, name in enumerate([choice.name, *choice.mix]):
            # The first dataset keeps the choice's column mapping and kind; the others are read as they are.
            first = i == 0
            member = dataclasses.replace(choice, name=name, mix=[], metric=None, columns=dict(choice.columns) if first
                                         else {}, kind=choice.kind if first else "auto",
                                         validation=choice.validation if first else None)  # fmt: skip
            members[task_name(name, members)] = load_task_data(member, seed)
        mixed = mix_task_data(members, sampling=choice.sampling, mark=choice.mark_tasks)
        mixed.source = {"type": "mixture", "members": {name: m.source for name, m in members.items()}}
        return mixed
    raw, where, spec, source = _find(choice)
    if choice.validation:
        _given_validation(choice.validation, raw, where, source)
    raw, notes = _trimmed_headers(raw)
    if carried_columns:
        found = raw["train"].column_names
        carried = {role: column for role, column in carried_columns.items() if column in found}
        choice = dataclasses.replace(choice, columns={**carried, **choice.columns})
    mapping = {**spec.get("columns", {}), **choice.columns}
    with quiet():  # no bars for the workbench's own mapping and filtering
        if "task" in mapping:
            data = _by_task_column(choice, raw, where, spec, mapping.pop("task"), seed, notes)
        else:
            data = _standardize(choice, raw, where, spec, mapping, seed, label_names, notes)
    data.source = source
    return data


def _given_validation(name: str, raw: dict[str, Dataset], where: dict[str, str], source: dict[str, Any]) -> None:
    """A file (or a held object) given as the validation split — a shared task's dev set — in place of any other."""
    if is_held_name(name):
        splits, _held = held_splits(name)
        raw["validation"], where["validation"] = _named_splits(splits)["train"], f"the validation data {name!r}"
    else:
        path = Path(name).expanduser()
        raw["validation"], where["validation"] = read_local(path)["train"], path.name
        name = str(path.resolve())
    source["validation"] = name


def _trimmed_headers(raw: dict[str, Dataset]) -> tuple[dict[str, Dataset], list[str]]:
    """Column names without surrounding spaces or a byte-order mark (a header saved as ``" review , verdict "``)."""
    names = raw["train"].column_names
    clean = {name: name.strip().lstrip("\ufeff").strip() for name in names}
    changed = {name: new for name, new in clean.items() if new != name}
    if not changed:
        return raw, []
    if len(set(clean.values())) < len(clean):
        raise DataError(f"column names {', '.join(map(repr, changed))} collide with others once their spaces are "
                        f"trimmed; rename them")  # fmt: skip
    note = "trimmed the spaces around column names " + ", ".join(f"{a!r} → {b!r}" for a, b in changed.items())
    return {s: ds.rename_columns({a: b for a, b in changed.items() if a in ds.column_names})
            for s, ds in raw.items()}, [note]  # fmt: skip


def _find(choice: DataChoice) -> tuple[dict[str, Dataset], dict[str, str], dict[str, Any], dict[str, Any]]:
    """The raw splits of ``choice``, how messages name each, what the built-in or curated table says, and where
    the rows came from as run.json keeps it (a type, a path or name, a held object's description; never rows)."""
    name = choice.name
    if name in BUILTIN_DATASETS:
        return (*_load_builtin(choice), {"type": "built-in", "name": name})
    if is_held_name(name):
        splits, held = held_splits(name)
        raw = _named_splits(splits)
        where = {split: f"the {split} split of the {held['type']} {name!r}" for split in raw}
        return raw, where, {}, {"name": name, **held}
    path = Path(name).expanduser()
    if looks_like_file(name) or path.exists():
        raw = _named_splits(read_local(path))
        where = {split: path.name if len(raw) == 1 else f"the {split} split of {path.name}" for split in raw}
        return raw, where, {}, {"type": "folder" if path.is_dir() else "file", "path": str(path.resolve())}
    raw = _load_hub(choice)
    where = {split: f"the {split} split of {name}" for split in raw}
    return raw, where, CURATED_DATASETS.get(name, {}), {"type": "hub", "name": name}


def _named_splits(raw: dict[str, Dataset]) -> dict[str, Dataset]:
    """``train``, ``validation`` (or valid/dev) and ``test`` of a dataset's splits; the first split trains
    when none is called train."""
    out = {"train": raw["train"] if "train" in raw else raw[next(iter(raw))]}
    val = next((raw[s] for s in _VALIDATION_NAMES if s in raw), None)
    if val is not None:
        out["validation"] = val
    if "test" in raw:
        out["test"] = raw["test"]
    return out


def _by_task_column(choice: DataChoice, raw: dict[str, Dataset], where: dict[str, str], spec: dict[str, Any],
                    column: str, seed: int, notes: list[str]) -> TaskData:  # fmt: skip
    if column not in raw["train"].column_names:
        raise DataError(f"dataset {choice.name!r} has no task column {column!r}; its columns are "
                        f"{', '.join(raw['train'].column_names)}")  # fmt: skip
    mapping = {k: v for k, v in {**spec.get("columns", {}), **choice.columns}.items() if k != "task"}
    tasks = sorted({str(t) for t in raw["train"][column]})
    members = {}
    for task in tasks:
        part = {split: ds.filter(lambda row, t=task: str(row[column]) == t) for split, ds in raw.items()}
        part = {split: ds for split, ds in part.items() if len(ds) or split == "train"}
        members[task] = _standardize(choice, part, {s: f"{w} (task {task})" for s, w in where.items()}, spec,
                                     mapping, seed, None, list(notes))  # fmt: skip
    return mix_task_data(members, sampling=choice.sampling, mark=choice.mark_tasks, name=choice.name)


def _standardize(choice: DataChoice, raw: dict[str, Dataset], where: dict[str, str], spec: dict[str, Any],
                 mapping: dict[str, str], seed: int, label_names: list[str] | None,
                 notes: list[str]) -> TaskData:  # fmt: skip
    raw, mapping = _conversations(choice, raw, where, mapping, notes)
    mapping = _known_columns(raw["train"].column_names, mapping, notes)
    kind = _kind(choice, spec, raw["train"], mapping, notes)
    columns = {role: mapping.get(role, role) for role in kind.roles}
    for split, ds in raw.items():  # a given dev file is checked like the training file
        found = ds.column_names
        missing = [f"{role} (column {col!r})" for role, col in columns.items() if col not in found]
        if missing:
            what = f"dataset {choice.name!r}" if split == "train" else where[split]
            raise DataError(
                f"{what} lacks {', '.join(missing)}; its columns are {', '.join(found)}."
                " Map them with columns={'role': 'column'} (CLI: --column role=column)"
            )
    selected = {split: _select(ds, columns) for split, ds in raw.items()}
    if "test" in selected and _unlabelled(selected["test"][kind.roles[-1]][:100]):
        del selected["test"]  # e.g. GLUE keeps its test labels private (-1)
        notes.append(f"the test split of {choice.name!r} has no labels; it is not used")
    prepared, names = kind.prepare(selected, columns, where, label_names)
    metric = _metric(choice, spec, kind, prepared["train"])  # a wrong metric is said before a split could fail
    group = kind.group_role if repeats(prepared["train"], kind.group_role) else None
    train, validation, test = split_off(prepared, choice, seed, group)
    data = TaskData(choice.name, kind.name, train, validation, names, test, notes=notes)
    data.metric, data.entity_types = metric, kind.entity_types(choice.tag_text, names)
    limit(data, choice, group)
    data.target_stats = kind.target_stats(train)
    if group is not None:
        notes.append(records_note(data, group))
    return data


def _load_builtin(choice: DataChoice) -> tuple[dict[str, Dataset], dict[str, str], dict[str, Any]]:
    spec = BUILTIN_DATASETS[choice.name]
    train = spec.make(spec.n_train, 0)
    rows = {"train": train, "validation": _unseen(spec, {_input(r, spec) for r in train})}
    raw = {split: _with_class_labels(r, spec) for split, r in rows.items()}
    where = {split: f"{choice.name} {split}" for split in raw}
    return raw, where, {"kind": spec.kind, "metric": spec.metric}


def _unseen(spec: Builtin, seen: set[Any]) -> list[dict[str, Any]]:
    """Validation rows whose input no training row (and no earlier validation row) has: the toy world is
    small, so independent draws repeat inputs (toy-ner: 4 in 5); draw on with further seeds until enough."""
    out: list[dict[str, Any]] = []
    for k in range(50):
        for row in spec.make(spec.n_validation, 1_000_003 + k):
            key = _input(row, spec)
            if key not in seen:
                seen.add(key)
                out.append(row)
                if len(out) == spec.n_validation:
                    return out
    return out


def _input(row: dict[str, Any], spec: Builtin) -> Any:
    value = row[DATA_KINDS[spec.kind].roles[0]]
    return tuple(value) if isinstance(value, list) else value


def _with_class_labels(rows: list[dict[str, Any]], spec: Builtin) -> Dataset:
    """The toy rows hold label ids; say so with ClassLabel features, as hub datasets do."""
    ds = Dataset.from_list(rows)
    if spec.label_names:
        role = DATA_KINDS[spec.kind].roles[1]
        label = ClassLabel(names=list(spec.label_names))
        features = ds.features.copy()
        features[role] = List(label) if isinstance(rows[0][role], list) else label
        ds = Dataset.from_list(rows, features=features)
    return ds


def _load_hub(choice: DataChoice) -> dict[str, Dataset]:
    curated = CURATED_DATASETS.get(choice.name, {})
    subset = choice.subset or curated.get("subset")
    online = hub_reachable()
    try:
        if online:
            with hub_timeouts():
                raw = datasets.load_dataset(choice.name, subset)
        else:  # the local datasets cache only; no retries against an unreachable hub
            with offline_datasets():
                raw = datasets.load_dataset(choice.name, subset)
    except Exception as exc:
        where = "the hub said" if online else f"{offline_reason()} and the local cache said"
        raise DataError(
            f"could not load dataset {choice.name!r}: not a built-in or local file, and {where}: {one_line(exc)}"
        ) from None
    return _named_splits(dict(raw))


def _conversations(choice: DataChoice, raw: dict[str, Dataset], where: dict[str, str], mapping: dict[str, str],
                   notes: list[str]) -> tuple[dict[str, Dataset], dict[str, str]]:  # fmt: skip
    """Chat and instruction data (any of :data:`~.conversations.FORMATS`, its columns mapped or as named) read as
    one ``messages`` column; other data is left as it is."""
    if choice.kind not in ("auto", "chat"):
        return raw, mapping
    names = {column: role for role, column in mapping.items()}  # the user's column -> a format's column
    if mapping and not set(mapping) <= {c for f in FORMATS for c in (*f.columns, *f.optional)}:
        return raw, mapping  # mapped onto another kind's roles
    renamed = {s: ds.rename_columns({c: r for c, r in names.items() if c in ds.column_names and c != r})
               for s, ds in raw.items()}  # fmt: skip
    found = find_format(renamed["train"].column_names)
    if found is None:
        return raw, mapping
    used = [c for c in (*found.columns, *found.optional) if c in renamed["train"].column_names]
    splits = read_conversations({s: ds.select_columns(used) for s, ds in renamed.items()}, found, where)
    notes.append(f"read as {found.name} data ({' / '.join(used)}): {len(splits['train'])} training conversations")
    return splits, {}


def _known_columns(columns: list[str], mapping: dict[str, str], notes: list[str]) -> dict[str, str]:
    """``mapping``, or a published file's own names for the roles (:data:`KNOWN_COLUMNS`) when nothing is mapped."""
    if mapping:
        return mapping
    for origin, known in KNOWN_COLUMNS.items():
        if set(known.values()) <= set(columns) and not set(known) & set(columns):
            notes.append(f"columns read as {origin} name them: "
                         + ", ".join(f"{column} -> {role}" for role, column in known.items()))  # fmt: skip
            return dict(known)
    return mapping


def _kind(choice: DataChoice, spec: dict[str, Any], train: Dataset, mapping: dict[str, str],
          notes: list[str]) -> DataKind:  # fmt: skip
    if choice.kind != "auto":
        return data_kind(choice.kind)
    if spec.get("kind"):
        return data_kind(spec["kind"])
    columns = train.column_names
    found = None
    for kind in DATA_KINDS.values():  # the roles the user mapped say what they meant
        if mapping and set(mapping) <= set(kind.roles):
            found = kind
            break
    if found is None:
        found = next((k for k in DATA_KINDS.values() if all(mapping.get(r, r) in columns for r in k.roles)
                      and k.claims(train, {r: mapping.get(r, r) for r in k.roles})), None)  # fmt: skip
    if found is None:
        raise DataError(
            f"cannot tell what task {choice.name!r} is: expected columns source+target, text+label, tokens+tags, "
            f"a conversation format ({', '.join(f.description for f in FORMATS)}) or one text column, found "
            f"{', '.join(columns)}; map yours with --column role=column or name the kind with --kind"
        )
    if found.roles != ROLES["classification"] or mapping.get("label", "label") not in columns:
        return found
    # text + label: a column of decimals is a number to predict; whole numbers stay classes, and we say so.
    column = mapping.get("label", "label")
    feature = train.features[column]
    dtype = getattr(feature, "dtype", "")
    if isinstance(feature, Value) and dtype.startswith("float"):
        return DATA_KINDS["regression"]
    if isinstance(feature, Value) and dtype.startswith("int"):
        distinct = len(set(train[column][:1000]))
        if distinct > 2:
            notes.append(f"label column {column!r} holds whole numbers ({distinct} values): read as classes; "
                         "to predict the number, set kind='regression' (CLI: --kind regression)")  # fmt: skip
    return DATA_KINDS["classification"]


def _metric(choice: DataChoice, spec: dict[str, Any], kind: DataKind, train: Dataset) -> str:
    metric = choice.metric or spec.get("metric") or kind.default_metric(train)
    if metric not in kind.metrics:
        raise DataError(
            f"metric {metric!r} does not fit a {kind.name} dataset; choose one of {', '.join(kind.metrics)}"
        )
    if metric == "slot_coverage" and not any(is_record(s) for s in train["source"][:200]):
        raise DataError(f"metric 'slot_coverage' needs key[value] records as sources, and {choice.name!r} has none")
    require_metric_library(metric)
    return metric


def _select(ds: Dataset, columns: dict[str, str]) -> Dataset:
    ds = ds.select_columns(list(columns.values()))
    return ds.rename_columns({col: role for role, col in columns.items() if col != role})


def _unlabelled(values: list[Any]) -> bool:
    def empty(v: Any) -> bool:
        return v is None or (isinstance(v, int) and not isinstance(v, bool) and v < 0) or v == []

    return bool(values) and all(empty(v) for v in values)
