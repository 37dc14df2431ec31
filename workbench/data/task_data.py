"""The shape every dataset is brought into: splits in standard columns, and what they ask for.

A :class:`TaskData` holds ``train``, ``validation`` and (when there is one) ``test``
splits with the standard columns of its kind (:mod:`workbench.data.kinds`), the label
names, the headline metric, the statistics a regression head is scaled by, notes for
the user, and — for a mixture of tasks — its member datasets. It renders a row as a
generative model reads it. Finding and loading data is :mod:`.sources`' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset

from ..errors import DataError
from .conversations import Conversation, show_source
from .kinds import DATA_KINDS, DataKind

__all__ = ["TaskData"]


@dataclass
class TaskData:
    """Train, validation (and test) splits in standard columns, and what kind of task they pose.

    ``metric`` is the headline metric; ``target_stats`` the (mean, std) of a regression
    target on the training split; ``notes`` what loading decided that a user should know;
    ``members`` the datasets of a mixture (kind ``mixture``), by task name.
    """

    name: str
    kind: str  # a key of workbench.data.kinds.DATA_KINDS
    train: Dataset
    validation: Dataset
    label_names: list[str] | None = None
    test: Dataset | None = None
    metric: str = ""
    target_stats: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    members: dict[str, TaskData] = field(default_factory=dict)  # a mixture's tasks, by name
    # Tagged words as text (data.entity_text): written as entities of these types; None: one tag per word.
    entity_types: list[str] | None = None
    # Where the rows came from, as run.json keeps it (sources._find): a type, a path or name, never rows.
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def data_kind(self) -> DataKind:
        return DATA_KINDS[self.kind]

    def split(self, name: str) -> Dataset:
        """``train``, ``validation`` or ``test`` (a one-line error when the dataset has no test split)."""
        ds = getattr(self, name, None) if name in ("train", "validation", "test") else None
        if ds is None:
            hint = " (files: pass test_fraction / --test-fraction)" if name == "test" else ""
            raise DataError(f"dataset {self.name!r} has no {name} split{hint}")
        return ds

    def preview(self, n: int = 3) -> list[tuple[str, str]]:
        """The first ``n`` training rows as (input, expected output) strings, a conversation one turn a line."""
        rows = self.train.select(range(min(n, len(self.train))))
        return [(show_source(source), target) for source, target in map(self.render, rows)]

    def render(self, row: dict[str, Any]) -> tuple[str | Conversation, str]:
        """One row as (input, expected output), the way a generative model sees it: the input is a text, or for
        chat data the conversation before the last reply."""
        return self.data_kind.render(row, self)

    def one_line(self) -> bool:
        """Does no training target hold a newline? Then generation ends at the first newline, as at EOS (a base
        model's habit of running on into another line is not the task's)."""
        if self.data_kind.layout != "pair":  # a reply ends at its end-of-turn token, a text at EOS
            return False
        if self.kind == "text":
            return not any("\n" in t for t in self.train["target"])
        rows = self.train.select(range(min(len(self.train), 2000)))
        return not any("\n" in self.render(row)[1] for row in rows)
