import math

import pytest

from workbench.data.kinds import DATA_KINDS
from workbench.metrics import (
    METRICS,
    bleu_tokenizer,
    classification_metrics,
    classification_report,
    is_better,
    parse_label,
    parse_number,
    parse_tags,
    regression_metrics,
    slot_coverage,
    tagging_metrics,
    tagging_per_type,
    text_metrics,
    word_count,
)

# Outputs equal to their references, for every kind of metric: each must score its best value.
_TEXT_REFS = ["Aromi is an Italian pub .", "Zizzi is cheap .", "cheap", "It is near The Mill ."]
_TEXT_SOURCES = ["name[Aromi] food[Italian] eatType[pub]", "name[Zizzi] priceRange[cheap]",
                 "name[Zizzi] priceRange[cheap] area[riverside]", "near[The Mill] name[Cotto]"]  # fmt: skip
_PERFECT = {
    **text_metrics(_TEXT_REFS, [[r] for r in _TEXT_REFS], _TEXT_SOURCES),
    **classification_metrics([0, 1, 2, 1], [0, 1, 2, 1]),
    **regression_metrics([1.0, 2.5, 4.0], [1.0, 2.5, 4.0]),
    **tagging_metrics([["B-name", "O", "B-food"]], [["B-name", "O", "B-food"]]),
    **DATA_KINDS["lm"].loss_metrics(0.0),  # every token predicted with certainty
}  # fmt: skip


def _perfect_mixture() -> dict:
    # A mixture reads every task's reference back through its own kind, as if generated.
    from workbench.config import DataChoice
    from workbench.data import load_task_data

    data = load_task_data(DataChoice("toy-e2e", mix=["toy-sentiment", "toy-ner"], max_eval_examples=6))
    rows = list(data.validation)
    preds = [data.data_kind.read(r["target"], r, data) for r in rows]
    return data.data_kind.score(preds, rows, data, generated=True, pool=data.validation)


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_outputs_equal_to_references_score_the_best_value(metric):
    perfect = {**_PERFECT, **_perfect_mixture()} if metric == "task_mean" else _PERFECT
    assert metric in perfect, f"{metric} has no perfect-prediction case"
    assert perfect[metric] == pytest.approx(METRICS[metric].best)


def test_one_word_outputs_that_are_exact_do_not_score_zero_bleu():
    words = ["cheap", "moderate", "expensive"]
    scores = text_metrics(words, [[w] for w in words])
    assert scores["bleu"] == pytest.approx(100) and scores["exact_match"] == 1.0 and scores["chrf"] == 100
    assert text_metrics(["cheap", "cheap", "cheap"], [[w] for w in words])["bleu"] < 50


def test_bleu_and_exact_match_use_every_reference_of_a_row():
    one = text_metrics(["Aromi is cheap ."], [["Aromi has low prices ."]])
    both = text_metrics(["Aromi is cheap ."], [["Aromi has low prices .", "Aromi is cheap ."]])
    assert one["exact_match"] == 0 and both["exact_match"] == 1
    assert both["bleu"] == pytest.approx(100) and one["bleu"] < 100


def test_every_metric_scores_a_row_against_its_closest_reference_not_its_first():
    # Rows whose references differ, each output equal to a later one (and rows with fewer references):
    # scoring against the first reference only left ROUGE-L and chrF far below 100.
    refs = [["Aromi has low prices .", "Aromi is cheap ."], ["Zizzi is a pub .", "It is by the river .", "Zizzi ."],
            ["The Eagle is a coffee shop ."]]  # fmt: skip
    scores = text_metrics(["Aromi is cheap .", "It is by the river .", "The Eagle is a coffee shop ."], refs)
    assert scores["exact_match"] == 1.0
    assert scores["bleu"] == pytest.approx(100) and scores["chrf"] == pytest.approx(100)
    assert scores["rougeL"] == pytest.approx(100)


def test_rouge_l_rewards_the_longest_common_subsequence():
    refs = [["the cat sat on the mat"]]
    assert text_metrics(["the cat sat on the mat"], refs)["rougeL"] == pytest.approx(100)
    partial = text_metrics(["the cat lay on a rug"], refs)["rougeL"]
    assert 0 < partial < 100


def test_slot_coverage_counts_what_the_reference_mentions_and_reads_family_friendly():
    src = "name[Aromi] food[Italian] familyFriendly[no]"
    assert slot_coverage(src, "Aromi serves Italian food . It is not family friendly .") == 1.0
    assert slot_coverage(src, "Aromi serves Italian food . It is family friendly .") == 0.0
    assert slot_coverage(src, "Aromi is not family friendly .") == 0.0
    assert slot_coverage(src, "Aromi serves Italian food .", reference="Aromi serves Italian food .") == 1.0
    assert slot_coverage("no slots here", "anything") is None
    # Records to one-word answers: only the slot the answer names counts.
    scores = text_metrics(["cheap"], [["cheap"]], ["name[Zizzi] priceRange[cheap]"])
    assert scores["slot_coverage"] == 1.0 and scores["exact_match"] == 1.0


def test_no_slot_coverage_for_sources_that_are_not_records():
    assert "slot_coverage" not in text_metrics(["a b"], [["a b"]], ["translate: hello [world]"])


def test_classification_report_and_label_parsing():
    assert parse_label(" Positive .", ["negative", "positive"]) == 1
    assert parse_label("unsure", ["negative", "positive"]) == -1
    assert parse_label("it was very good indeed", ["good", "very good", "bad"]) == 1  # the longer phrase
    assert parse_label("bad, not good", ["good", "bad"]) == 1  # the first one named
    m = classification_metrics([1, 0, -1, 1], [1, 0, 0, 1])
    assert m["accuracy"] == 0.75 and m["f1"] == pytest.approx((2 / 3 + 1) / 2)
    report = classification_report([1, 0, 0, 1], [1, 0, 1, 1], ["bad", "good"])
    assert report["confusion"] == [[1, 0], [1, 2]]  # rows: true bad, true good
    assert report["per_label"]["good"]["recall"] == pytest.approx(2 / 3) and report["per_label"]["bad"]["support"] == 1
    assert "precision" in report["text"] and "good" in report["text"]


def test_regression_metrics_and_number_parsing():
    m = regression_metrics([2.0, 4.0], [1.0, 5.0])
    assert m["rmse"] == pytest.approx(1.0) and m["mae"] == pytest.approx(1.0) and m["r2"] == pytest.approx(0.75)
    assert math.isnan(regression_metrics([1.0], [2.0])["r2"])  # undefined for one row, not a made-up 0
    assert parse_number("about 3.5 stars") == 3.5 and parse_number("-2") == -2 and parse_number(".5") == 0.5
    assert parse_number("four") is None and parse_number("") is None


def test_direction_of_each_metric():
    assert is_better("rmse", 0.5, 1.0) and not is_better("rmse", 2.0, 1.0)
    assert is_better("accuracy", 0.9, 0.5) and not is_better("accuracy", float("nan"), 0.1)
    assert is_better("bleu", 10.0, float("nan"))


def test_entity_level_tagging_report_per_type():
    ref = [["B-name", "I-name", "O", "B-food"]]
    pred = [["B-name", "I-name", "O", "O"]]
    m, per_type = tagging_metrics(pred, ref), tagging_per_type(pred, ref)
    assert m == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    assert per_type["name"]["f1"] == 1.0 and per_type["food"]["recall"] == 0.0 and per_type["food"]["support"] == 1
    assert parse_tags("B-name junk", 3, ["O", "B-name"]) == ["B-name", "O", "O"]


def test_exact_match_ignores_case_and_spacing_as_documented():
    assert text_metrics(["The CHEAP  one"], [["the cheap one"]])["exact_match"] == 1.0
    assert text_metrics(["the cheap one"], [["the dear one"]])["exact_match"] == 0.0


# -- text in any script -------------------------------------------------------------------------

_ZH = "金龙是一家位于河边的川菜餐厅，价格便宜。"
_IDENTICAL = {  # a few outputs each, equal to their references: every metric must score its best
    "zh": ([_ZH, "小园是一家面食餐厅。"], ["name[金龙] food[川菜] price[便宜] area[河边]", "name[小园] food[面食]"]),
    "th": (["ร้านอาหารนี้ราคาถูก", "อาหารอร่อยมาก"], None),
    "ja": (["このレストランは安いです。", "とても美味しいラーメン屋です。"], None),
    "ru": (["Это недорогой ресторан.", "Еда очень вкусная."], None),
}


@pytest.mark.parametrize("script", sorted(_IDENTICAL))
def test_outputs_equal_to_references_score_the_best_value_in_any_script(script):
    texts, sources = _IDENTICAL[script]
    scores = text_metrics(texts, [[t] for t in texts], sources)
    assert set(scores) >= {"exact_match", "bleu", "chrf", "rougeL"} and ("slot_coverage" in scores) == bool(sources)
    for metric, value in scores.items():
        assert value == pytest.approx(METRICS[metric].best), (metric, value)


def test_a_chinese_output_one_character_off_scores_near_its_reference():
    # The case: 13a read the unspaced sentence as one word (BLEU 0), rouge-score dropped every character.
    scores = text_metrics([_ZH.replace("厅", "馆")], [[_ZH]])
    assert 60 < scores["bleu"] < 100 and 80 < scores["rougeL"] < 100 and scores["exact_match"] == 0


@pytest.mark.parametrize(
    ("refs", "tokenizer"),
    [
        ([_ZH], "zh"),
        (["Aromi is an Italian pub ."], "13a"),
        (["Это недорогой ресторан."], "13a"),  # spaced, if not Latin
        (["ร้านอาหารนี้ราคาถูก"], "char"),
        (["このレストランは安いです。"], "char"),  # kana with Chinese characters: Japanese, split in characters
        (["金龙 is a Sichuan restaurant by the river ."], "zh"),  # zh reads the English words as 13a does
        (["I had ต้มยำ soup at a lovely place by the river ."], "13a"),  # one Thai word must not split the rest
    ],
)
def test_bleu_tokenizer_follows_the_references_script(refs, tokenizer):
    assert bleu_tokenizer([refs]) == tokenizer


def test_exact_match_folds_full_width_forms():
    assert text_metrics(["ＡＢＣ１２３"], [["ABC123"]])["exact_match"] == 1.0
    assert text_metrics(["价格：便宜！"], [["价格:便宜!"]])["exact_match"] == 1.0
    assert parse_label("情感：ＰＯＳＩＴＩＶＥ", ["negative", "positive"]) == 1


def test_english_bleu_and_rouge_are_scored_as_before():
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    preds = ["Aromi is a cheap Italian pub running near the river .", "The Mill's coffee-shop serves Indian food"]
    refs = ["Aromi is an Italian pub near the river , and it is cheap .", "The Mill is a coffee shop serving Indians"]
    scores = text_metrics(preds, [[r] for r in refs])
    assert scores["bleu"] == pytest.approx(BLEU(effective_order=True).corpus_score(preds, [refs]).score)
    rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    expected = 100 * sum(rouge.score(r, p)["rougeL"].fmeasure for p, r in zip(preds, refs)) / len(preds)
    assert scores["rougeL"] == pytest.approx(expected)


def test_words_of_an_unspaced_script_are_its_characters():
    assert word_count("Aromi is cheap .") == 4
    assert word_count("小园是一家面食餐厅。") == 10  # nine characters and the full stop
