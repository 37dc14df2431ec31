"""Data kinds on files users bring: labels of any type, regression, test splits, metrics, bad labels."""

import math

import pytest
import user_files as uf

from workbench.config import DataChoice, ModelChoice
from workbench.data import load_task_data
from workbench.data.coverage import tokenizer_coverage
from workbench.errors import DataError
from workbench.models import load_model


@pytest.mark.parametrize(
    ("labels", "names"),
    [
        (("bad", "good"), ["bad", "good"]),
        ((0, 1), ["0", "1"]),
        ((False, True), ["False", "True"]),
        ((10, 2), ["2", "10"]),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_classification_labels_of_any_type_become_ids_with_names(tmp_path, labels, names, suffix):
    path = uf.write(tmp_path / f"reviews{suffix}", uf.reviews(labels=labels))
    data = load_task_data(DataChoice(str(path)))
    assert data.kind == "classification" and data.label_names == names
    assert set(data.train["label"]) | set(data.validation["label"]) == {0, 1}
    row = data.train[0]
    source, target = data.render(row)
    assert target == names[row["label"]] and source.startswith("The food")
    good = names[0 if str(labels[1]) == names[0] else 1]  # the name of the label on positive reviews
    assert all((names[r["label"]] == good) == any(w in r["text"] for w in uf.GOOD) for r in data.train)


def test_decimal_label_column_is_regression_with_training_statistics(tmp_path):
    path = uf.write(tmp_path / "stars.csv", uf.stars())
    data = load_task_data(DataChoice(str(path), columns={"text": "review", "label": "stars"}))
    assert data.kind == "regression" and data.label_names is None and data.metric == "rmse"
    mean, std = data.target_stats
    assert mean == pytest.approx(sum(data.train["label"]) / len(data.train)) and std > 0
    assert data.render(data.train[0])[1] in {"1", "2", "3", "4", "5"}


def test_whole_number_labels_are_classes_unless_told_and_the_choice_is_explained(tmp_path):
    rows = [{"text": r["review"], "label": int(r["stars"])} for r in uf.stars()]
    path = uf.write(tmp_path / "stars.jsonl", rows)
    classes = load_task_data(DataChoice(str(path)))
    assert classes.kind == "classification" and classes.label_names == ["1", "2", "3", "4", "5"]
    assert any("--kind regression" in note for note in classes.notes)
    numbers = load_task_data(DataChoice(str(path), kind="regression"))
    assert numbers.kind == "regression" and isinstance(numbers.train[0]["label"], float)


def test_string_tags_become_ids_with_outside_first(tmp_path):
    path = uf.write(tmp_path / "tags.jsonl", uf.tags())
    data = load_task_data(DataChoice(str(path)))
    assert data.kind == "tagging" and data.label_names == ["O", "B-food"] and data.metric == "f1"
    assert data.train[0]["tags"] == [0, 0, 1, 0, 0]
    food = data.train[0]["tokens"][2]
    assert data.render(data.train[0])[1] == f"{food} (food)"  # a model that writes learns the entities
    per_word = load_task_data(DataChoice(str(path), tag_text="tags"))
    assert per_word.render(per_word.train[0])[1] == "O O B-food O O"


def test_text_metric_defaults_fit_the_outputs(tmp_path):
    short = load_task_data(DataChoice(str(uf.write(tmp_path / "answers.csv", uf.answers()))))
    assert short.kind == "text" and short.metric == "exact_match"
    assert load_task_data(DataChoice("toy-e2e")).metric == "slot_coverage"
    long_rows = [{"source": f"word {i}", "target": "the food was great and the staff lovely ."} for i in range(20)]
    assert load_task_data(DataChoice(str(uf.write(tmp_path / "long.csv", long_rows)))).metric == "bleu"
    chosen = load_task_data(DataChoice(str(tmp_path / "answers.csv"), metric="chrf"))
    assert chosen.metric == "chrf"


def test_test_fraction_holds_out_a_disjoint_test_split(tmp_path):
    path = uf.write(tmp_path / "reviews.csv", [{**r, "text": f"{r['text']} #{i}"} for i, r in
                                              enumerate(uf.reviews(n=100))])  # fmt: skip
    data = load_task_data(DataChoice(str(path), test_fraction=0.2, validation_fraction=0.1))
    texts = [set(ds["text"]) for ds in (data.train, data.validation, data.test)]
    assert len(texts[2]) == 20 and sum(len(t) for t in texts) == 100
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert load_task_data(DataChoice(str(path))).test is None


@pytest.mark.parametrize(
    ("rows", "choice", "needle"),
    [
        ([{"text": "a", "label": "good"}, {"text": "b", "label": None}, {"text": "c", "label": "bad"}], {},
         "label column 'label' is empty in row 2 of data.jsonl"),
        ([{"text": "a", "label": "good"}, {"text": "b", "label": "1"}, {"text": "c", "label": "bad"}], {},
         "label column 'label' mixes str and float values (row 1 of data.jsonl vs row 2"),
        ([{"text": "a", "y": 1.5}, {"text": "b", "y": "n/a"}, {"text": "c", "y": 2.0}],
         {"kind": "regression", "columns": {"label": "y"}}, "label column 'y' holds 'n/a', not a number, in row 2"),
        ([{"text": "a", "y": 1.5}, {"text": "b", "y": None}, {"text": "c", "y": 2.0}],
         {"columns": {"label": "y"}}, "label column 'y' is empty in row 2"),
        ([{"source": "a", "target": "x"}, {"source": "b", "target": ""}, {"source": "c", "target": "y"}], {},
         "column 'target' is empty in row 2"),
        ([{"tokens": ["a", "b"], "tags": ["O"]}, {"tokens": ["c"], "tags": ["O"]}], {},
         "row 1 of data.jsonl needs a list of words and a list of tags of the same length"),
        ([{"source": "a", "target": "x"}, {"source": "b", "target": "y"}], {"metric": "rmse"},
         "metric 'rmse' does not fit a text dataset"),
        ([{"source": "a", "target": "x"}, {"source": "b", "target": "y"}], {"metric": "slot_coverage"},
         "needs key[value] records"),
    ],
)  # fmt: skip
def test_bad_labels_are_refused_with_one_line_naming_column_and_row(tmp_path, rows, choice, needle):
    path = uf.write(tmp_path / "data.jsonl", rows * 4)
    with pytest.raises(DataError) as info:
        load_task_data(DataChoice(str(path), **choice))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_trained_runs_label_names_read_another_file_with_the_same_ids(tmp_path):
    first = load_task_data(DataChoice(str(uf.write(tmp_path / "a.csv", uf.reviews(labels=("bad", "good"))))))
    flipped = [{**r, "label": r["label"]} for r in reversed(uf.reviews(labels=("bad", "good")))]
    other = load_task_data(DataChoice(str(uf.write(tmp_path / "b.csv", flipped))), label_names=["good", "bad"])
    assert other.label_names == ["good", "bad"] and first.label_names == ["bad", "good"]
    row = next(r for r in other.train if "awful" in r["text"] or any(w in r["text"] for w in uf.BAD))
    assert other.label_names[row["label"]] == "bad"
    unknown = uf.write(tmp_path / "c.csv", uf.reviews(labels=("meh", "good")))
    with pytest.raises(DataError, match=r"label 'meh' in row 1 of c\.csv is not one of the run's labels"):
        load_task_data(DataChoice(str(unknown)), label_names=["bad", "good"])


def test_tokenizer_coverage_finds_words_a_word_level_vocabulary_lacks(tmp_path):
    pairs = [{"source": "the food", "target": "la nourriture"}, {"source": "cheap", "target": "bon marché"}]
    data = load_task_data(DataChoice(str(uf.write(tmp_path / "fr.csv", pairs * 10))))
    tok = load_model(ModelChoice("tiny-gpt2"), "text").tokenizer
    coverage = tokenizer_coverage(tok, data)
    assert coverage.target_unknown == 1.0 and coverage.source_unknown == 0.0 and "word-level" in coverage.vocabulary
    known = load_task_data(DataChoice("toy-e2e", max_train_examples=50))
    assert tokenizer_coverage(tok, known).target_unknown == 0.0
    assert not math.isnan(coverage.source_unknown)


def test_a_regression_head_predicts_on_the_datas_scale_not_the_standardized_one(make_config, tmp_path):
    """Targets of 100-500: predictions left standardized (about -2..2) would sit hundreds away from every one."""

    from workbench import Run

    rows = [{"review": r["review"], "stars": 100.0 * r["stars"]} for r in uf.stars()]
    path = uf.write(tmp_path / "stars.jsonl", rows)
    cfg = make_config("tiny-bert", str(path), train={"steps": 30, "lr": 0.05})
    cfg.data.columns = {"text": "review", "label": "stars"}
    run = Run.create(cfg)
    run.train()
    result = run.evaluate()
    mean, std = run.data.target_stats
    assert 250 < mean < 350 and std > 50
    assert all(100 - 2 * std < p < 500 + 2 * std for p in result.predictions)
    assert result.metrics["rmse"] < 2 * std  # the scale of the data, not of the standardized head


@pytest.mark.parametrize(
    ("model", "dataset", "mix", "detail"),
    [
        ("tiny-gpt2", "toy-e2e", [], None),
        ("tiny-bert", "toy-sentiment", [], "confusion"),
        ("tiny-bert", "toy-ner", [], "per_type"),
        ("tiny-gpt2", "toy-ner", [], "per_type"),  # tags generated as text, read back per word
        ("tiny-bert", "stars", [], None),
        ("tiny-gpt2", "toy-e2e", ["toy-sentiment", "toy-ner"], None),
    ],
)
def test_every_kinds_metrics_are_numbers_and_its_structures_are_in_the_report(make_config, tmp_path, model,
                                                                               dataset, mix, detail):  # fmt: skip
    from workbench import Run
    from workbench.history import History

    cfg = make_config(model, dataset, data={"mix": mix}, train={"steps": 3})
    if dataset == "stars":
        cfg.data.name = str(uf.write(tmp_path / "stars.jsonl", uf.stars()))
        cfg.data.columns = {"text": "review", "label": "stars"}
    run = Run.create(cfg)
    run.train()
    result = run.evaluate(report=True)
    for metrics in (result.metrics, run.history.evals[-1].metrics):
        assert metrics and all(type(v) is float for v in metrics.values()), metrics
    if detail:
        assert detail in result.report
    if mix:
        assert {"toy-sentiment/accuracy", "toy-ner/f1"} <= set(result.metrics)
    # A run.json written before metrics held only numbers still loads: its structures are left out.
    old = run.history.to_dict()
    old["evals"][-1]["metrics"]["per_type"] = {"name": {"f1": 1.0}}
    assert "per_type" not in History.from_dict(old).evals[-1].metrics
