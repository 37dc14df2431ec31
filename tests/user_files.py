"""Small data files of the kinds users bring, written into a test's folder.

Rows use words the built-in tokenizers know (the toy restaurant world), plus a few
they do not, so runs can learn something in a few steps and coverage checks have
something to find.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

GOOD = ("great", "lovely", "fresh", "tasty", "superb", "delicious")
BAD = ("awful", "rude", "cold", "bland", "stale", "terrible")
FOODS = ("Italian", "French", "Chinese", "Indian")


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    """``rows`` as a .csv (header from the first row) or .jsonl file, by ``path``'s suffix."""
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def reviews(n: int = 60, *, labels: tuple[Any, Any] = ("bad", "good"), seed: int = 0) -> list[dict[str, Any]]:
    """``text`` + ``label``: a review and one of two labels (strings, ints or bools)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        good = i % 2 == 1
        a, b = rng.sample(GOOD if good else BAD, 2)
        rows.append({"text": f"The food was {a} and the staff was {b} .", "label": labels[good]})
    return rows


def stars(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``text`` + ``stars`` (1.0-5.0, decimals): a regression target."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        score = rng.randint(1, 5)
        words = rng.sample(GOOD, 2) if score > 3 else rng.sample(BAD, 2) if score < 3 else [GOOD[0], BAD[0]]
        rows.append({"review": f"The food was {words[0]} and {words[1]} .", "stars": float(score)})
    return rows


def answers(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``source`` (a record) + ``target`` (one word): a look-up, scored by exact match."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        price = rng.choice(("cheap", "moderate", "expensive"))
        rows.append({"source": f"name[Zizzi] priceRange[{price}] area[riverside]", "target": price})
    return rows


def tags(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``tokens`` + ``tags`` as strings (BIO)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        food = rng.choice(FOODS)
        rows.append({"tokens": ["I", "had", food, "food", "."], "tags": ["O", "O", "B-food", "O", "O"]})
    return rows
