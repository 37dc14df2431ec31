"""What datasets the workbench knows by name: the built-in toy sets and curated hub ids, as data.

Each built-in names its kind, the generator that makes its rows (:mod:`.toy`), its
sizes, label names and headline metric; each curated hub id its kind, column mapping
and metric; :data:`KNOWN_COLUMNS` the column names published files use for the roles.
Listing them (``prefix-workbench datasets``, the panel's menu) imports nothing heavy: no
``datasets``, no torch. Loading them is :mod:`.sources`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import toy

__all__ = ["BUILTIN_DATASETS", "CURATED_DATASETS", "KNOWN_COLUMNS", "Builtin"]


@dataclass(frozen=True)
class Builtin:
    kind: str
    make: Callable[[int, int], list[dict[str, Any]]]
    n_train: int
    n_validation: int
    description: str
    label_names: tuple[str, ...] | None = None
    metric: str | None = None


BUILTIN_DATASETS: dict[str, Builtin] = {
    "toy-e2e": Builtin("text", toy.text_examples, 4000, 300,
                        "restaurant records -> one sentence (E2E-style table-to-text)", metric="slot_coverage"),
    "toy-sentiment": Builtin("classification", toy.sentiment_examples, 2000, 300,
                              "restaurant reviews -> negative / positive", toy.SENTIMENT_LABELS),
    "toy-ner": Builtin("tagging", toy.tagging_examples, 2000, 300,
                        "BIO tags for restaurant names, food and areas", toy.TAG_NAMES),
}  # fmt: skip

# Hub datasets known to fit, with their column mapping and metric (not downloaded here).
CURATED_DATASETS: dict[str, dict[str, Any]] = {
    "e2e_nlg": {"kind": "text", "columns": {"source": "meaning_representation", "target": "human_reference"},
                "metric": "bleu",
                "description": "E2E NLG challenge: restaurant records -> text (the paper's table-to-text)"},
    "GEM/dart": {"kind": "text", "columns": {"source": "tripleset", "target": "target"}, "metric": "bleu",
                 "description": "DART: RDF triples -> text"},
    "EdinburghNLP/xsum": {"kind": "text", "columns": {"source": "document", "target": "summary"},
                          "metric": "rougeL",
                          "description": "XSum: news article -> one-sentence summary (the paper's summarization)"},
    "nyu-mll/glue": {"kind": "classification", "subset": "sst2", "columns": {"text": "sentence", "label": "label"},
                     "description": "GLUE SST-2 sentiment (use subset sst2)"},
    "stanfordnlp/imdb": {"kind": "classification", "columns": {"text": "text", "label": "label"},
                         "description": "IMDB movie reviews, two classes"},
    "eriktks/conll2003": {"kind": "tagging", "columns": {"tokens": "tokens", "tags": "ner_tags"},
                          "description": "CoNLL-2003 named entities (P-tuning v2 sequence labelling)"},
}  # fmt: skip

# Published files' own column names for a kind's roles, read as those roles when a file has every one of them and
# no column named for a role (so E2E's CSVs train as they come, alone or in a mixture).
KNOWN_COLUMNS: dict[str, dict[str, str]] = {
    "E2E's CSV files": {"source": "mr", "target": "ref"},
    "E2E on the Hub": {"source": "meaning_representation", "target": "human_reference"},
}
