"""The CLI on files users bring: every kind trains on every model that can learn it; bad files stop early."""

import json

import pytest
import user_files as uf

from workbench.cli import main

FAST = ["--steps", "3", "--lr", "0.1", "--eval-every", "0", "--prefix-length", "4", "--max-length", "32"]

# data -> (rows, --column flags, the headline metric it should get, formats it fits)
DATA = {
    "answers": (uf.answers, [], "exact_match", (".csv", ".jsonl")),
    "labels-str": (lambda: uf.reviews(labels=("bad", "good")), [], "accuracy", (".csv", ".jsonl")),
    "labels-int": (lambda: uf.reviews(labels=(0, 1)), [], "accuracy", (".csv", ".jsonl")),
    "stars": (uf.stars, ["--column", "text=review", "--column", "label=stars"], "rmse", (".csv", ".jsonl")),
    "tags-str": (uf.tags, [], "f1", (".jsonl",)),  # a CSV cell holds no list
}
# model -> {data: the objective it should train with}
MODELS = {
    "tiny-gpt2": {"answers": "causal-lm", "labels-str": "causal-lm", "labels-int": "causal-lm", "stars": "causal-lm",
                  "tags-str": "causal-lm"},
    "tiny-t5": {"answers": "seq2seq", "labels-str": "seq2seq", "labels-int": "seq2seq", "stars": "seq2seq",
                "tags-str": "seq2seq"},
    "tiny-bert": {"labels-str": "seq-cls", "labels-int": "seq-cls", "stars": "seq-reg", "tags-str": "token-cls"},
}  # fmt: skip
MATRIX = [
    (model, name, suffix, objective)
    for model, objectives in MODELS.items()
    for name, objective in objectives.items()
    for suffix in DATA[name][3]
]


@pytest.mark.parametrize(("model", "name", "suffix", "objective"), MATRIX)
def test_each_kind_of_file_trains_from_the_cli_with_a_fitting_metric(tmp_path, model, name, suffix, objective):
    make, columns, metric, _ = DATA[name]
    path = uf.write(tmp_path / f"{name}{suffix}", make())
    out = tmp_path / "run"
    assert main(["train", "--model", model, "--dataset", str(path), *columns, *FAST, "--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["objective"] == objective and info["headline_metric"] == metric
    assert next(iter(k for k in info["metrics"] if k not in ("step", "loss"))) == metric
    assert isinstance(info["metrics"][metric], float)


def test_a_record_to_word_file_learns_and_leads_with_exact_match(tmp_path, capsys):
    # The case: every output right, and the headline must say so (not slot coverage 0.00).
    path = uf.write(tmp_path / "answers.csv", uf.answers(n=120))
    out = tmp_path / "run"
    args = ["--steps", "40", "--lr", "0.01", "--eval-every", "0"]
    assert main(["train", "--dataset", str(path), *args, "--out", str(out)]) == 0
    metrics = json.loads((out / "run.json").read_text())["metrics"]
    assert list(metrics)[2] == "exact_match" and metrics["exact_match"] >= 0.9 and metrics["bleu"] >= 90
    assert "exact_match" in capsys.readouterr().out


def test_test_split_report_and_evaluate_command(tmp_path, capsys):
    path = uf.write(tmp_path / "reviews.csv", uf.reviews(n=120))
    out = tmp_path / "run"
    args = ["--model", "tiny-bert", "--dataset", str(path), "--test-fraction", "0.25", "--steps", "30", "--lr", "0.05"]
    assert main(["train", *args, "--eval-every", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test: 30 rows" in printed and "precision" in printed and "confusion matrix" in printed
    test = json.loads((out / "run.json").read_text())["test"]
    assert test["rows"] == 30 and sum(map(sum, test["report"]["confusion"])) == 30
    assert test["metrics"]["accuracy"] == pytest.approx(test["report"]["per_label"]["accuracy"])

    assert main(["evaluate", "--run", str(out)]) == 0
    again = json.loads((out / "eval-test.json").read_text())
    assert again["metrics"] == pytest.approx(test["metrics"]) and (out / "eval-test.html").is_file()
    # Another file, read with the run's labels: its own rows, its own report.
    other = uf.write(tmp_path / "other.jsonl", uf.reviews(n=20, seed=5))
    assert main(["evaluate", "--run", str(out), "--dataset", str(other), "--split", "validation"]) == 0
    assert json.loads((out / "eval-validation.json").read_text())["rows"] == 2


def test_evaluate_another_file_with_the_runs_columns_needs_no_mapping_and_a_given_one_wins(tmp_path, capsys):
    # The case: trained with --column source=mr --column target=ref, scored on another file with mr / ref.
    mapping = ["--column", "source=mr", "--column", "target=ref"]
    train = uf.write(tmp_path / "records.csv", uf.renamed(uf.answers(), source="mr", target="ref"))
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(train), *mapping, *FAST, "--out", str(out)]) == 0
    more = uf.write(tmp_path / "more.csv", uf.renamed(uf.answers(n=40, seed=3), source="mr", target="ref"))
    assert main(["evaluate", "--run", str(out), "--dataset", str(more), "--split", "validation"]) == 0
    body = json.loads((out / "eval-validation.json").read_text())
    assert body["rows"] > 0 and "exact_match" in body["metrics"]
    # A --column given for the other file wins over the run's mapping; the run's still maps the role left open.
    rows = [{"mr": "not this", "meaning": r["source"], "ref": r["target"]} for r in uf.answers(n=40, seed=4)]
    other = uf.write(tmp_path / "other.csv", rows)
    assert main(["evaluate", "--run", str(out), "--dataset", str(other), "--column", "source=meaning",
                 "--split", "validation"]) == 0  # fmt: skip
    samples = json.loads((out / "eval-validation.json").read_text())["samples"]
    assert samples and all("name[Zizzi]" in s["input"] for s in samples)
    # Columns that fit neither the run's mapping nor the roles: one line naming the file's and how to map them.
    capsys.readouterr()
    stray = uf.write(tmp_path / "stray.csv", uf.renamed(uf.answers(n=20), source="record", target="sentence"))
    assert main(["evaluate", "--run", str(out), "--dataset", str(stray), "--split", "validation"]) == 2
    err = capsys.readouterr().err.strip()
    assert "record, sentence" in err and "--column" in err and len(err.splitlines()) == 1


def test_evaluate_a_regression_run_writes_a_scatter(tmp_path, capsys):
    path = uf.write(tmp_path / "stars.csv", uf.stars(n=80))
    out = tmp_path / "run"
    flags = ["--column", "text=review", "--column", "label=stars", "--test-fraction", "0.2"]
    assert main(["train", "--model", "tiny-bert", "--dataset", str(path), *flags, *FAST, "--out", str(out)]) == 0
    assert main(["evaluate", "--run", str(out)]) == 0
    body = json.loads((out / "eval-test.json").read_text())
    assert list(body["metrics"])[:3] == ["rmse", "mae", "r2"] and len(body["report"]["true"]) == 16
    assert "Predicted vs true" in (out / "eval-test.html").read_text()


@pytest.mark.parametrize(
    ("rows", "flags", "needle"),
    [
        ([{"text": "a", "label": "good"}, {"text": "b", "label": 1}], [], "mixes str and int"),
        ([{"text": "a", "label": "good"}, {"text": "b", "label": "1"}], [], "mixes str and float"),
        ([{"text": "a", "label": "good"}, {"text": "b", "label": None}], [], "is empty in row 2"),
        ([{"text": "a", "label": float("nan")}, {"text": "b", "label": 2.0}], [], "is empty in row 1"),
        ([{"text": "a", "label": "x"}, {"text": "b", "label": "2"}], ["--kind", "regression"],
         "not a number"),
        ([{"source": "a", "target": "b"}] * 2, ["--metric", "accurate"], "invalid choice: 'accurate'"),
        ([{"source": "a", "target": "b"}] * 2, ["--metric", "rmse"], "does not fit a text dataset"),
    ],
)  # fmt: skip
def test_bad_files_and_flags_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, rows, flags, needle):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows * 5) + "\n", encoding="utf-8")  # NaN as JSON5 NaN
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(path), *flags, *FAST, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_analyse_a_regression_run_on_my_file(tmp_path, capsys):
    # An encoder with a one-output head on decimals: the analysis scores RMSE (lower is better) with slots hidden.
    data = uf.write(tmp_path / "stars.csv", uf.stars())
    out = tmp_path / "run"
    argv = ["train", "--model", "tiny-bert", "--dataset", str(data), "--column", "text=review", "--column",
            "label=stars", "--steps", "20", "--lr", "0.05", "--prefix-length", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert main(["analyse", "--run", str(out), "--rows", "12"]) == 0
    summary = json.loads((out / "analysis" / "analysis.json").read_text())
    assert summary["slots"]["metric"] == "rmse" and summary["slots"]["full"]["metric"] > 0
    assert len(summary["layers"]["without"]) == 2 and len(summary["readout"]["overall"]) == 3


def test_sweep_my_file_with_a_column_mapping(tmp_path, capsys):
    data = uf.write(tmp_path / "reviews.jsonl", [{"review": r["text"], "verdict": r["label"]} for r in uf.reviews()])
    out = tmp_path / "sweep"
    assert main(["sweep", "--space", "lr=1e-2:2e-1:log", "--trials", "2", "--model", "tiny-gpt2", "--dataset",
                 str(data), "--column", "text=review", "--column", "label=verdict", "--steps", "8", "--eval-every",
                 "4", "--out", str(out)]) == 0  # fmt: skip
    info = json.loads((out / "sweep.json").read_text())
    assert info["metric"] == "accuracy" and info["direction"] == "maximize" and len(info["trials"]) == 2
    assert (out / "best" / "adapter" / "adapter_config.json").is_file()


def test_a_run_loads_and_evaluates_another_file_with_its_columns_from_python(tmp_path, make_config):
    from workbench import Run
    from workbench.config import DataChoice

    train = uf.write(tmp_path / "records.jsonl", uf.renamed(uf.answers(), source="mr", target="ref"))
    run = Run.create(make_config(dataset=str(train), data={"columns": {"source": "mr", "target": "ref"}}))
    more = uf.renamed(uf.answers(n=40, seed=3), source="mr", target="ref")
    data = run.load_data(DataChoice(name=str(uf.write(tmp_path / "more.csv", more))))
    assert set(data.validation["source"]) <= {r["mr"] for r in more}
    result = run.evaluate("validation", data=data)
    assert result.rows and "exact_match" in result.metrics
    # A mapping given for the other file wins; the run's fills the role it leaves open.
    rows = [{"mr": "not this", "meaning": r["mr"], "ref": r["ref"]} for r in more]
    choice = DataChoice(name=str(uf.write(tmp_path / "other.csv", rows)), columns={"source": "meaning"})
    assert set(run.load_data(choice).validation["source"]) <= {r["mr"] for r in more}
    assert run.config.data.columns == {"source": "mr", "target": "ref"}  # the run's own mapping is untouched


def test_a_chinese_file_trains_on_a_model_that_reads_it_and_bleu_splits_its_characters(tmp_path, make_config):
    import math

    from workbench import Run

    rows = uf.chinese_records(n=32)
    model = uf.byte_level_gpt2(tmp_path / "zh-gpt2", [text for row in rows for text in row.values()])
    data = uf.write(tmp_path / "records-zh.jsonl", rows)
    run = Run.create(make_config(str(model), str(data), data={"test_fraction": 0.2}, train={"steps": 6}))
    assert run.metric == "bleu"  # sentences, if unspaced ones: not the one-word answers exact match is for
    run.train()
    assert run.test is not None and run.history.evals
    for metrics in (run.test.metrics, run.history.evals[-1].metrics):
        assert {"bleu", "exact_match", "chrf", "rougeL", "slot_coverage"} <= set(metrics)
        assert all(math.isfinite(v) for v in metrics.values()), metrics
    info = json.loads((run.export(tmp_path / "run") / "run.json").read_text())
    assert info["test"]["report"]["bleu_tokenizer"] == "zh"
