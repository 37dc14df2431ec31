"""Tagged words as written entities: what a decoder learns for BIO tags, and how its answer is read back."""

import json
from pathlib import Path

import pytest

from workbench.data.entity_text import entity_text, entity_types, read_entities, tag_text_form
from workbench.errors import DataError

WORDS = ["You", "should", "'ve", "stayed", "on", "Redondo", "Beach", "Blvd", ".", "you", "were", "in", "Gardena",
         "/", "Compton"]  # fmt: skip
TAGS = ["O"] * 5 + ["B-location", "I-location", "I-location"] + ["O"] * 4 + ["B-location", "O", "B-location"]
TYPES = ["location", "person"]
WNUT = Path(__file__).resolve().parents[3] / "shared" / "data" / "wnut17"


def test_a_rows_entities_are_written_in_order_and_read_back_to_its_tags():
    text = entity_text(WORDS, TAGS)
    assert text == "Redondo Beach Blvd (location); Gardena (location); Compton (location)"
    assert read_entities(text, WORDS, TYPES) == TAGS
    assert entity_text(["no", "one", "here"], ["O", "O", "O"]) == "none"
    assert read_entities("none", ["no", "one"], TYPES) == ["O", "O"]


def test_an_answer_is_read_as_far_as_it_names_entities_of_the_sentence():
    # Case differs, junk before an entity, an entity not in the sentence, an unknown type, a wrong type.
    answer = "junk; redondo beach (location); Mars (location); Compton (planet); Gardena (person)"
    assert read_entities(answer, WORDS, TYPES) == (
        ["O"] * 5 + ["B-location", "I-location"] + ["O"] * 5 + ["B-person", "O", "O"]
    )


def test_words_that_hold_the_separator_and_repeated_words_are_placed_where_they_stand():
    words = ["Simon", "&amp;", "Schuster", ";", "M&amp;M", "'s"]
    tags = ["B-group", "I-group", "I-group", "O", "B-product", "O"]
    assert read_entities(entity_text(words, tags), words, ["group", "product"]) == tags
    # The second of two written entities goes after the first, not to an earlier untagged copy of its words.
    words = ["Paris", "said", "Paris", "is", "in", "France"]
    tags = ["B-person", "O", "B-location", "O", "O", "B-location"]
    assert read_entities(entity_text(words, tags), words, ["person", "location"]) == tags


def test_only_b_i_tag_sets_are_written_as_entities_and_asking_for_them_elsewhere_is_one_line():
    assert entity_types(["O", "B-food", "I-food", "B-name"]) == ["food", "name"]
    assert entity_types(["NOUN", "VERB"]) is None and entity_types(["O", "S-loc"]) is None
    assert tag_text_form("auto", ["O", "B-x", "I-x"]) == ["x"] and tag_text_form("tags", ["O", "B-x"]) is None
    assert tag_text_form("auto", ["NOUN", "VERB"]) is None
    with pytest.raises(DataError, match="--tag-text entities needs B-/I- tags") as info:
        tag_text_form("entities", ["NOUN", "VERB"])
    assert "\n" not in str(info.value)


@pytest.mark.skipif(not WNUT.is_dir(), reason="the shared WNUT-17 files are not here")
def test_wnut17_rows_read_back_to_their_own_tags():
    rows = [json.loads(line) for f in ("train.jsonl", "dev.jsonl") for line in (WNUT / f).read_text().splitlines()]
    types = entity_types(sorted({t for r in rows for t in r["tags"]}))
    wrong = [r for r in rows if read_entities(entity_text(r["tokens"], r["tags"]), r["tokens"], types) != r["tags"]]
    # Two of 4,403 sentences name an entity whose words also stand, untagged, earlier in the sentence.
    assert len(rows) == 4403 and len(wrong) == 2
