"""The built-in toy world: restaurants, and three datasets generated from it.

``toy-e2e`` (E2E-style records → a sentence), ``toy-sentiment`` (a review → negative
/ positive) and ``toy-ner`` (BIO tags for names, food and areas) are generated
here, offline and deterministically from fixed seeds, so tests, the CLI default
and the pretrained demo model all share one small closed vocabulary. This module
only makes Python records; turning them into ``datasets`` objects and token ids
happens in :mod:`workbench.data.sources` and :mod:`workbench.data.encode`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = [
    "ATTRIBUTES",
    "SENTIMENT_LABELS",
    "TAG_NAMES",
    "describe",
    "random_record",
    "record_to_source",
    "sentiment_examples",
    "tagging_examples",
    "text_examples",
    "vocabulary_texts",
]

NAMES = (
    "Aromi", "Alimentum", "Bibimbap House", "Blue Spice", "Browns Cambridge", "Clowns", "Cocum",
    "Cotto", "Fitzbillies", "Giraffe", "Green Man", "Loch Fyne", "Midsummer House", "Strada",
    "Taste of Cambridge", "The Cricketers", "The Eagle", "The Golden Curry", "The Mill", "The Olive Grove",
    "The Phoenix", "The Plough", "The Punter", "The Rice Boat", "The Twenty Two", "The Vaults",
    "The Waterman", "The Wrestlers", "Wildwood", "Zizzi",
)  # fmt: skip
EAT_TYPES = ("restaurant", "pub", "coffee shop")
FOODS = ("Italian", "French", "Chinese", "Indian", "Japanese", "English", "Fast food")
AREAS = ("riverside", "city centre")
PRICES = ("cheap", "moderate", "expensive")
RATINGS = ("low", "average", "high")

# Attribute order in a record's source string, as in the E2E challenge.
ATTRIBUTES = ("name", "eatType", "food", "priceRange", "customerRating", "area", "familyFriendly", "near")
_VALUES = {
    "eatType": EAT_TYPES,
    "food": FOODS,
    "priceRange": PRICES,
    "customerRating": RATINGS,
    "area": AREAS,
    "familyFriendly": ("yes", "no"),
}

SENTIMENT_LABELS = ("negative", "positive")
TAG_NAMES = ("O", "B-name", "I-name", "B-food", "I-food", "B-area", "I-area")

_POSITIVE = ("delicious", "excellent", "wonderful", "friendly", "lovely", "great", "superb", "fresh")
_NEGATIVE = ("awful", "terrible", "bland", "rude", "dirty", "cold", "horrible", "stale")
_NEUTRAL_POS = ("good", "nice", "tasty")  # negated in some negative reviews: "was not good"
_ASPECTS = ("food", "service", "staff", "coffee", "dessert", "atmosphere", "soup", "wine")


def random_record(rng: random.Random) -> dict[str, str]:
    """One restaurant: a name plus two to five other attributes."""
    record = {"name": rng.choice(NAMES)}
    others = [a for a in ATTRIBUTES if a != "name"]
    for attr in sorted(rng.sample(others, rng.randint(2, 5)), key=ATTRIBUTES.index):
        if attr == "near":
            record[attr] = rng.choice([n for n in NAMES if n != record["name"]])
        else:
            record[attr] = rng.choice(_VALUES[attr])
    return record


def record_to_source(record: dict[str, str]) -> str:
    """``name[Aromi] food[Italian] area[riverside]``: the E2E meaning representation."""
    return " ".join(f"{attr}[{record[attr]}]" for attr in ATTRIBUTES if attr in record)


def describe(record: dict[str, str], rng: random.Random) -> str:
    """A sentence that mentions every attribute of the record, with some variation."""
    name = record["name"]
    food = record.get("food")
    kind = record.get("eatType", "place")
    noun = f"{food} {kind}" if food else kind
    article = "an" if noun[0].lower() in "aeiou" else "a"
    area = record.get("area")
    if area and rng.random() < 0.5:
        parts = [f"In the {area} area , {name} is {article} {noun} ."]
    else:
        parts = [f"{name} is {article} {noun}" + (f" in the {area} area ." if area else " .")]
    if "priceRange" in record:
        parts.append(rng.choice(("It is {} .", "Prices are {} ."))
                     .format(record["priceRange"]))  # fmt: skip
    if "customerRating" in record:
        rating = record["customerRating"]
        parts.append(f"It has {'an' if rating == 'average' else 'a'} {rating} customer rating .")
    if "familyFriendly" in record:
        parts.append("It is family friendly ." if record["familyFriendly"] == "yes"
                     else "It is not family friendly .")  # fmt: skip
    if "near" in record:
        parts.append(f"It is near {record['near']} .")
    return " ".join(parts)


def text_examples(n: int, seed: int) -> list[dict[str, str]]:
    """``toy-e2e`` rows: ``{"source": record, "target": sentence}``."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        record = random_record(rng)
        rows.append({"source": record_to_source(record), "target": describe(record, rng)})
    return rows


def _review(rng: random.Random, positive: bool) -> str:
    name = rng.choice(NAMES)
    aspect, other = rng.sample(_ASPECTS, 2)
    words = _POSITIVE if positive else _NEGATIVE
    adj, adj2 = rng.sample(words, 2)
    form = rng.randrange(5)
    if form == 0:
        return f"The {aspect} at {name} was {adj} ."
    if form == 1:
        return f"The {aspect} was {adj} and the {other} was {adj2} ."
    if form == 2:
        verb = "loved" if positive else "hated"
        return f"We {verb} {name} , the {aspect} was {adj} ."
    if form == 3 and not positive:
        return f"The {aspect} at {name} was not {rng.choice(_NEUTRAL_POS)} ."
    return f"{name} has {adj} {aspect} ."


def sentiment_examples(n: int, seed: int) -> list[dict[str, object]]:
    """``toy-sentiment`` rows: ``{"text": review, "label": 0 | 1}`` (balanced)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        positive = i % 2 == 1
        rows.append({"text": _review(rng, positive), "label": int(positive)})
    rng.shuffle(rows)
    return rows


def tagging_examples(n: int, seed: int) -> list[dict[str, object]]:
    """``toy-ner`` rows: ``{"tokens": [...], "tags": [...]}`` with BIO tags from TAG_NAMES."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        spans = [("name", rng.choice(NAMES)), ("food", rng.choice(FOODS)), ("area", rng.choice(AREAS))]
        form = rng.randrange(4)
        if form == 0:
            template = ["{name}", "serves", "{food}", "food", "in", "the", "{area}", "."]
        elif form == 1:
            template = ["I", "had", "{food}", "food", "at", "{name}", "."]
        elif form == 2:
            template = ["{name}", "is", "in", "the", "{area}", "area", "."]
        else:
            template = ["We", "went", "to", "the", "{area}", "for", "{food}", "at", "{name}", "."]
        tokens: list[str] = []
        tags: list[int] = []
        values = dict(spans)
        for piece in template:
            if piece.startswith("{"):
                kind = piece[1:-1]
                words = values[kind].split()
                tokens += words
                tags += [TAG_NAMES.index(f"B-{kind}")] + [TAG_NAMES.index(f"I-{kind}")] * (len(words) - 1)
            else:
                tokens.append(piece)
                tags.append(0)
        rows.append({"tokens": tokens, "tags": tags})
    return rows


def vocabulary_texts() -> Iterator[str]:
    """Every word the toy world can produce, for training the built-in tokenizer."""
    for values in (NAMES, EAT_TYPES, FOODS, AREAS, PRICES, RATINGS, _POSITIVE, _NEGATIVE, _NEUTRAL_POS):
        yield " ".join(values)
    yield " ".join(ATTRIBUTES) + " " + " ".join(SENTIMENT_LABELS) + " " + " ".join(TAG_NAMES)
    yield " ".join(_ASPECTS) + " yes no describe name of sentiment tags summary : [ ] , . ->"
    for row in text_examples(500, seed=1):
        yield row["source"]
        yield row["target"]
    for row in sentiment_examples(500, seed=1):
        yield str(row["text"])
    for row in tagging_examples(200, seed=1):
        yield " ".join(row["tokens"])  # type: ignore[arg-type]
