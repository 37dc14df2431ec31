"""Several tasks: a mixture as one dataset, per-task metrics, and one prefix per task in one batch."""

import json

import pytest
import user_files as uf

from workbench import Run
from workbench.cli import main
from workbench.config import DataChoice
from workbench.data import load_task_data
from workbench.data.mixture import task_name
from workbench.errors import CompatibilityError, DataError
from workbench.multitask import compare_multitask, format_multitask_table


def test_a_mixture_marks_rows_with_their_task_and_alternates_validation_rows():
    data = load_task_data(DataChoice("toy-e2e", mix=["toy-sentiment"], max_train_examples=30, max_eval_examples=5))
    assert data.kind == "mixture" and list(data.members) == ["toy-e2e", "toy-sentiment"]
    assert len(data.train) == 60 and data.metric == "task_mean"
    assert data.validation["task"] == ["toy-e2e", "toy-sentiment"] * 5
    sentiment = data.validation[1]
    member = data.members["toy-sentiment"]
    assert data.render(sentiment) == member.render(member.validation[sentiment["row"]])


def test_a_mixture_scores_distinct_records_of_a_task_whose_sources_repeat(tmp_path):
    # Nine references per record, as in E2E: the first rows scored are distinct records of each task, and a
    # record's other references are still its references.
    rows = "".join(f'"name[R{i // 9}]","R{i // 9} is a place {i % 9}."\n' for i in range(9 * 40))
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "devset.csv").write_text("mr,ref\n" + rows, encoding="utf-8")
    data = load_task_data(DataChoice(str(tmp_path / "e2e" / "devset.csv"), mix=["toy-sentiment"],
                                     max_eval_examples=90))  # fmt: skip
    scored = data.data_kind.scored_rows(data.validation, 8)
    e2e = [r["source"] for r in scored if r["task"] == "e2e"]
    assert [r["task"] for r in scored] == ["e2e", "toy-sentiment"] * 4 and len(set(e2e)) == 4
    perfect = [data.members["e2e"].split("validation")[r["row"]]["target"] if r["task"] == "e2e" else
               data.members["toy-sentiment"].validation[r["row"]]["label"] for r in scored]  # fmt: skip
    metrics = data.data_kind.score(perfect, scored, data, generated=True, pool=data.validation)
    assert metrics["e2e/bleu"] == pytest.approx(100.0) and metrics["toy-sentiment/accuracy"] == 1.0


def test_balanced_sampling_repeats_the_smaller_task_and_marks_can_name_tasks(tmp_path):
    small = uf.write(tmp_path / "answers.csv", uf.answers(n=12))
    choice = DataChoice("toy-e2e", mix=[str(small)], max_train_examples=40, sampling="balanced", mark_tasks=True)
    data = load_task_data(choice)
    tasks = data.train["task"]
    assert tasks.count("toy-e2e") == tasks.count("answers") == 40
    assert all(s.startswith(f"{t} : ") for s, t in zip(data.train["source"], tasks))


def test_a_task_column_splits_one_file_into_tasks(tmp_path):
    rows = [{**r, "task": "price"} for r in uf.answers(n=30)]
    rows += [{"source": r["text"], "target": ("good" if any(w in r["text"] for w in uf.GOOD) else "bad"),
              "task": "review"} for r in uf.reviews(n=30)]  # fmt: skip
    path = uf.write(tmp_path / "two_tasks.jsonl", rows)
    data = load_task_data(DataChoice(str(path), columns={"task": "task"}))
    assert data.kind == "mixture" and sorted(data.members) == ["price", "review"]
    assert {data.members["price"].metric, data.members["review"].metric} == {"exact_match"}
    with pytest.raises(DataError, match="leads with task_mean"):
        load_task_data(DataChoice(str(path), columns={"task": "task"}, metric="bleu"))


def test_one_prefix_on_two_tasks_reports_each_tasks_metrics(tmp_path):
    out = tmp_path / "mixed"
    args = ["--dataset", "toy-e2e", "--dataset", "toy-sentiment", "--model", "tiny-gpt2", "--steps", "6",
            "--eval-every", "3", "--max-train-examples", "64", "--out", str(out)]  # fmt: skip
    assert main(["train", *args]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["dataset_kind"] == "mixture" and info["headline_metric"] == "task_mean"
    assert {"toy-e2e/slot_coverage", "toy-sentiment/accuracy", "toy-sentiment/f1"} <= info["metrics"].keys()
    assert all("toy-sentiment/accuracy" in e["metrics"] for e in info["history"]["evals"])
    again = Run.load(out)
    assert again.data.kind == "mixture" and again.evaluate().metrics.keys() == info["metrics"].keys() - {"step", "loss"}


def test_an_encoder_cannot_learn_a_mixture(make_config):
    with pytest.raises(CompatibilityError, match="cannot learn a 'mixture' dataset"):
        Run.create(make_config("tiny-bert", "toy-sentiment", data={"mix": ["toy-ner"]}))


def test_mixed_prefix_against_a_prefix_per_task_served_in_one_batch(make_config):
    cfg = make_config("tiny-gpt2", data={"mix": ["toy-sentiment"]}, train={"steps": 4, "eval_generate": 6})
    results = compare_multitask(cfg)
    mixed, per_task = results
    assert (mixed.prefixes, per_task.prefixes) == (1, 2) and per_task.trainable == 2 * mixed.trainable
    for r in results:
        assert {"task_mean", "toy-e2e/slot_coverage", "toy-sentiment/accuracy"} <= r.metrics.keys()
        assert r.metrics["toy-sentiment/unparsed"] == 0.0  # a class is the likeliest label, in a mixture too
    table = format_multitask_table(results, load_task_data(cfg.data))
    assert "one prefix per task, one batch" in table and "toy-sentiment/accuracy" in table


def test_a_member_is_named_for_its_file_or_for_the_folder_of_a_file_named_for_its_split():
    taken = {"e2e": None}
    names = ["../data/banking77/train.csv", "e2e/devset.csv", "data/wnut17/", "my.reviews.csv.gz", "nyu-mll/glue",
             "toy-e2e", "train.jsonl"]  # fmt: skip
    assert [task_name(n, taken) for n in names] == ["banking77", "e2e-2", "wnut17", "my.reviews", "glue", "toy-e2e",
                                                    "train"]  # fmt: skip


def test_the_cli_takes_every_run_setting_and_e2e_files_as_they_come(tmp_path, capsys, make_config):
    from workbench.cli import main

    rows = "".join(f'"name[A{i % 7}], food[Thai]","A{i % 7} serves Thai food {i}."\n' for i in range(60))
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "devset.csv").write_text("mr,ref\n" + rows, encoding="utf-8")  # E2E's own columns
    out = tmp_path / "mt"
    assert main(["multitask", "--model", "tiny-gpt2", "--dataset", str(tmp_path / "e2e" / "devset.csv"), "--dataset",
                 "toy-sentiment", "--steps", "3", "--eval-generate", "4", "--prefix-length", "3", "--batch-size", "4",
                 "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr()
    assert "e2e/bleu" in printed.out and "toy-sentiment/accuracy" in printed.out
    assert "multitask: 100%" in printed.err and "9/9" in printed.err  # one bar: the mixture's steps, then each task's
    results = json.loads((out / "multitask.json").read_text())
    three = Run.create(make_config("tiny-gpt2", prefix={"length": 3})).counts.trainable
    assert [r["prefixes"] for r in results] == [1, 2] and results[0]["trainable"] == three


def test_a_mixture_ranks_its_classification_tasks_labels_and_writes_the_rest(make_config):
    run = Run.create(make_config("tiny-gpt2", data={"mix": ["toy-sentiment"]}, train={"steps": 2, "eval_generate": 6,
                                                                                       "warmup_steps": 0}))  # fmt: skip
    result = run.evaluate()
    tasks = [r["task"] for r in result.rows]
    ranked = [p for p, t in zip(result.predictions, tasks) if t == "toy-sentiment"]
    assert tasks.count("toy-sentiment") == 3 and all(p in (0, 1) for p in ranked)
    assert all(isinstance(p, str) for p, t in zip(result.predictions, tasks) if t == "toy-e2e")  # written
    run.config.train.label_choice = "generation"
    assert 0.0 <= run.evaluate().metrics["toy-sentiment/unparsed"] <= 1.0  # read back from text, as asked
