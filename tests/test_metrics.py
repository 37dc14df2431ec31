import pytest

from workbench.metrics import (
    classification_metrics,
    parse_label,
    parse_tags,
    slot_coverage,
    tagging_metrics,
    text_metrics,
)


def test_slot_coverage_needs_every_value_and_reads_family_friendly():
    src = "name[Aromi] food[Italian] familyFriendly[no]"
    assert slot_coverage(src, "Aromi serves Italian food . It is not family friendly .") == 1.0
    assert slot_coverage(src, "Aromi serves Italian food . It is family friendly .") == 0.0
    assert slot_coverage(src, "Aromi is not family friendly .") == 0.0
    assert slot_coverage("no slots here", "anything") is None


def test_text_metrics_bleu_exact_match_and_coverage():
    refs = ["Aromi is an Italian pub .", "Zizzi is cheap ."]
    srcs = ["name[Aromi] food[Italian] eatType[pub]", "name[Zizzi] priceRange[cheap]"]
    perfect = text_metrics(refs, refs, srcs)
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["exact_match"] == 1.0 and perfect["slot_coverage"] == 1.0
    half = text_metrics(["Aromi is an Italian pub .", "Zizzi ."], refs, srcs)
    assert half["slot_coverage"] == 0.5 and half["exact_match"] == 0.5 and half["bleu"] < 100


def test_classification_and_label_parsing():
    assert parse_label(" Positive .", ["negative", "positive"]) == 1
    assert parse_label("unsure", ["negative", "positive"]) == -1
    m = classification_metrics([1, 0, -1, 1], [1, 0, 0, 1])
    assert m["accuracy"] == 0.75 and 0 < m["f1"] < 1


def test_entity_level_tagging_report_per_type():
    ref = [["B-name", "I-name", "O", "B-food"]]
    pred = [["B-name", "I-name", "O", "O"]]
    m = tagging_metrics(pred, ref)
    assert m["precision"] == 1.0 and m["recall"] == 0.5
    assert m["per_type"]["name"]["f1"] == 1.0 and m["per_type"]["food"]["recall"] == 0.0
    assert parse_tags("B-name junk", 3, ["O", "B-name"]) == ["B-name", "O", "O"]
