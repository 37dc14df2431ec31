"""Tagged words as the entities a model writes — ``Empire State Building (location); ESB (location)`` — and back.

A decoder that learns a BIO-tagged sentence as its tag sequence (``O O O B-location
I-location …``) must count words to stay aligned, and where entities are rare (WNUT-17) it
learns to write ``O`` everywhere: entity F1 0 after 200 steps on SmolLM2-135M. Written as
its entities, the same run scores 26.6 (README, *Decoders write entities*). :func:`entity_text` writes
a row's entities in order (``none`` when it has none); :func:`read_entities` finds each
written entity's words in the sentence and tags them back, so a written answer is scored
as a head's tags are (seqeval, entity level). :func:`entity_types` says which tag sets read
as entities: IOB2 ones (``O``, ``B-type``, ``I-type``); :func:`tag_text_form` decides, from
the setting and the tags, which form a dataset's rows take. Nothing here tokenizes or scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import DataError

__all__ = ["NO_ENTITIES", "entity_text", "entity_types", "read_entities", "tag_text_form"]

NO_ENTITIES = "none"  # what a row without entities is written as


def entity_types(tag_names: Sequence[str]) -> list[str] | None:
    """The entity types of an IOB2 tag set (every tag ``O``, ``B-type`` or ``I-type``), else None."""
    types: dict[str, None] = {}
    for tag in tag_names:
        if tag == "O":
            continue
        prefix, _, kind = tag.partition("-")
        if prefix not in ("B", "I") or not kind:
            return None
        types[kind] = None
    return list(types) or None


def tag_text_form(setting: str, tag_names: Sequence[str]) -> list[str] | None:
    """The entity types rows are written with, or None where they are written as one tag per word.

    ``setting``: ``auto`` (entities where the tags are IOB2), ``entities`` (a one-line error where they are not)
    or ``tags``."""
    types = entity_types(tag_names) if setting != "tags" else None
    if setting == "entities" and types is None:
        shown = ", ".join(list(tag_names)[:6])
        raise DataError(f"--tag-text entities needs B-/I- tags (IOB2); these tags are {shown}…: use --tag-text tags")
    return types


def entity_text(words: Sequence[str], tags: Sequence[str]) -> str:
    """The entities of ``words`` under IOB2 ``tags``, in order: ``"Rick and Morty (creative-work); …"``."""
    from seqeval.metrics.sequence_labeling import get_entities  # read as seqeval scores them (a stray I- opens one)

    found = [f"{' '.join(words[start : end + 1])} ({kind})" for kind, start, end in get_entities(list(tags))]
    return "; ".join(found) or NO_ENTITIES


def read_entities(text: str, words: Sequence[str], types: Sequence[str]) -> list[str]:
    """One IOB2 tag per word, read from a written list of entities.

    Each ``words (type)`` with a known type is tagged where its words stand in the sentence and are not yet part
    of an entity: after the entity before it where they stand there (entities are written in order), else
    anywhere; spelled as written before ignoring case. An entity that is not in the sentence, a type that is not
    known, and anything else written are passed over: those words stay ``O``.
    """
    pattern = re.compile(r"\s*(.+?)\s+\((" + "|".join(map(re.escape, types)) + r")\)\s*(?:;|$)")
    tags = ["O"] * len(words)
    sentence = (list(words), [w.casefold() for w in words])  # as given, and casefolded: each once
    cursor = 0
    for match in pattern.finditer(text):
        written, kind = match.group(1), match.group(2)
        # Words may hold "; " (Simon &amp; Schuster): the whole match first, then what follows each "; " in it
        # (something unreadable written before an entity).
        parts = written.split("; ")
        for span in ("; ".join(parts[i:]).split() for i in range(len(parts))):
            start = _place(sentence, span, tags, cursor)
            if start is not None:
                tags[start : start + len(span)] = [f"B-{kind}"] + [f"I-{kind}"] * (len(span) - 1)
                cursor = start + len(span)
                break
    return tags


def _place(words: tuple[list[str], list[str]], span: list[str], tags: list[str], cursor: int) -> int | None:
    """Where ``span`` stands untagged among the sentence's words (``words``: as given, and casefolded): from
    ``cursor`` on, then from the start; as spelled, then ignoring case."""
    n = len(span)
    for first in (cursor, 0):
        for sentence, want in zip(words, (span, [w.casefold() for w in span])):
            for start in range(first, len(sentence) - n + 1):
                if sentence[start : start + n] == want and all(t == "O" for t in tags[start : start + n]):
                    return start
    return None
