"""The pretraining corpus of ``tiny-demo``: the toy world, with instruction-marked tasks.

Each line is ``"{instruction} : {input} -> {output}"`` (or plain text). The tasks
teach the demo model to do, when *asked*, what the built-in datasets later ask for
without the instruction: ``describe :`` turns a record into a sentence (``toy-e2e``),
``sentiment :`` labels a review (``toy-sentiment``). Other tasks over the same
inputs (look-ups such as ``priceRange of :``, ``keys :``, ``record :``) make a bare
record ambiguous, so the frozen model without a prefix does *not* already solve
``toy-e2e``: the prefix has to find the instruction. The corpus is drawn from seeds
disjoint from the built-in datasets'. This module only makes text; :mod:`.pretrain`
trains on it.
"""

from __future__ import annotations

import random

from ..data import toy

__all__ = ["INSTRUCTIONS", "TASK_WEIGHTS", "corpus_lines", "demo_vocabulary"]

# instruction word(s) -> what they ask for
INSTRUCTIONS = {
    "describe": "a record -> a sentence mentioning every attribute",
    "of": "`{attribute} of : {record}` -> that attribute's value (`name of`, `priceRange of`, ...)",
    "keys": "a record -> its attribute names",
    "record": "a sentence -> its record",
    "sentiment": "a review -> negative / positive",
}
# How often each task appears. Record-input tasks are balanced so that a bare record,
# with no instruction, does not point at "describe". The look-ups ("of") teach the
# value-binding that "describe" needs (a priceRange value must come back as the price,
# not as a rating): one short, sharp target per line instead of one token in forty.
TASK_WEIGHTS = {"describe": 0.34, "of": 0.22, "keys": 0.06, "record": 0.12, "sentiment": 0.14, "text": 0.12}

# Apart from the seeds of the built-in datasets (0 for train, 1_000_003 for validation).
_SEED_BASE = 7_000_001


def _review(rng: random.Random) -> dict[str, object]:
    # sentiment_examples alternates labels from its first row, so draw a pair and pick one.
    return rng.choice(toy.sentiment_examples(2, seed=rng.randrange(1 << 30)))


def _line(task: str, rng: random.Random) -> str:
    if task == "sentiment":
        row = _review(rng)
        return f"sentiment : {row['text']} -> {toy.SENTIMENT_LABELS[int(row['label'])]}"  # type: ignore[arg-type]
    record = toy.random_record(rng)
    source, sentence = toy.record_to_source(record), toy.describe(record, rng)
    if task == "describe":
        return f"describe : {source} -> {sentence}"
    if task == "of":
        attr = rng.choice(list(record))
        return f"{attr} of : {source} -> {record[attr]}"
    if task == "keys":
        return f"keys : {source} -> {' '.join(record)}"
    if task == "record":
        return f"record : {sentence} -> {source}"
    return sentence if rng.random() < 0.5 else str(_review(rng)["text"])


def corpus_lines(n: int, seed: int = 0) -> list[str]:
    """``n`` pretraining lines, deterministic for a seed (tasks mixed by TASK_WEIGHTS)."""
    rng = random.Random(_SEED_BASE + seed)
    tasks, weights = zip(*TASK_WEIGHTS.items())
    return [_line(task, rng) for task in rng.choices(tasks, weights=weights, k=n)]


def demo_vocabulary() -> list[str]:
    """Texts covering every word of the toy world and of the instructions."""
    return [*toy.vocabulary_texts(), " ".join(INSTRUCTIONS), *corpus_lines(2000, seed=-1)]
