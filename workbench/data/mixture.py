"""Several tasks, one prefix: a mixture of datasets read as one text-to-text dataset.

:func:`mix_task_data` joins member datasets (each loaded and checked on its own, any
kind) into one :class:`TaskData` of kind ``mixture``: every row is the member row as a
generative model reads it (``source`` → ``target``, :meth:`TaskData.render`), marked
with its ``task`` and, with ``mark_tasks``, a ``"{task} :"`` before the source. Training
rows come in proportion to each task's size, or ``balanced`` (smaller tasks repeated to
the largest's size); validation and test rows alternate between tasks, each task's distinct
sources first (an E2E record's further references after every record), so the first few
rows an evaluation generates cover every task with distinct inputs. Scoring goes back to each member's own
kind (:mod:`workbench.data.kinds`), which reports per-task metrics. Loading is
:mod:`.sources`' job; nothing here tokenizes. (A model's own task — PEFT's ``TaskType``,
causal LM or a head — is :mod:`workbench.models.objectives`'.)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datasets import Dataset

from ..errors import DataError
from .files import SPLIT_STEMS, data_stem, looks_like_file
from .task_data import TaskData

__all__ = ["mix_task_data", "task_name"]


def task_name(dataset: str, taken: Mapping[str, Any]) -> str:
    """A short name for a member dataset, unique among ``taken``: its built-in or file name, or the folder's for a
    file named for its split (``banking77/train.csv`` is ``banking77``)."""
    path = Path(dataset.rstrip("/"))
    base = data_stem(path) if looks_like_file(dataset) else path.name
    if base.lower() in SPLIT_STEMS and path.parent.name not in ("", ".", ".."):
        base = path.parent.name
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def mix_task_data(members: Mapping[str, TaskData], *, sampling: str = "proportional", mark: bool = False,
                  name: str | None = None) -> TaskData:  # fmt: skip
    """One dataset of every member's rows, marked with their task (see the module docstring)."""
    if len(members) < 2:
        raise DataError("a mixture needs at least two tasks; give another dataset or a task column with 2+ values")
    unpaired = next((task for task, data in members.items() if data.data_kind.layout != "pair"), None)
    if unpaired is not None:
        raise DataError(f"{unpaired!r} is {members[unpaired].kind} data, which a mixture of tasks cannot hold yet; "
                        "train it on its own")  # fmt: skip
    train = {task: _rows(task, data, "train", mark) for task, data in members.items()}
    if sampling == "balanced":
        most = max(len(rows) for rows in train.values())
        train = {task: list(itertools.islice(itertools.cycle(rows), most)) for task, rows in train.items()}
    splits: dict[str, Any] = {"train": Dataset.from_list([r for rows in train.values() for r in rows])}
    for split in ("validation", "test"):
        if all(getattr(d, split) is not None for d in members.values()):
            per_task = [_records_first(_rows(task, data, split, mark)) for task, data in members.items()]
            splits[split] = Dataset.from_list(_alternate(per_task))
    notes = [f"{task}: {note}" for task, data in members.items() for note in data.notes]
    return TaskData(name or "+".join(members), "mixture", splits["train"], splits["validation"],
                    test=splits.get("test"), metric="task_mean", members=dict(members), notes=notes)  # fmt: skip


def _rows(task: str, data: TaskData, split: str, mark: bool) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(data.split(split)):
        source, target = data.render(row)
        out.append({"source": f"{task} : {source}" if mark else source, "target": target, "task": task,
                    "split": split, "row": i})  # fmt: skip
    return out


def _records_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each source's first row, then the further rows of sources seen before (E2E: a record's other references),
    so the first rows of a split alternate between distinct records of every task."""
    seen: set[str] = set()
    first, further = [], []
    for row in rows:
        (further if row["source"] in seen else first).append(row)
        seen.add(row["source"])
    return first + further


def _alternate(groups: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Round-robin over the groups: a, b, c, a, b, c, …, then what is left of the longer ones."""
    return [row for batch in itertools.zip_longest(*groups) for row in batch if row is not None]
