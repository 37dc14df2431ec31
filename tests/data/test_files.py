"""Files as pandas and datasets write them: Parquet, TSV, Arrow folders, compressed CSV/JSONL, odd headers."""

from __future__ import annotations

import gzip
import json

import datasets
import pandas as pd
import pytest
import user_files as uf

from workbench.cli import main
from workbench.config import DataChoice
from workbench.data import load_task_data
from workbench.errors import DataError

FAST = ["--steps", "3", "--lr", "0.1", "--eval-every", "0", "--prefix-length", "4", "--max-length", "32",
        "--eval-generate", "2", "--max-new-tokens", "4"]  # fmt: skip


def _parquet(path, rows):
    pd.DataFrame(rows).to_parquet(path)


def _tsv(path, rows):
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)


def _csv_gz(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False, compression="gzip")


def _jsonl_gz(path, rows):
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))


def _saved(path, rows):
    datasets.Dataset.from_list(rows).save_to_disk(str(path))


WRITERS = {"data.parquet": _parquet, "data.tsv": _tsv, "data.csv.gz": _csv_gz, "data.jsonl.gz": _jsonl_gz,
           "saved": _saved}  # fmt: skip


@pytest.mark.parametrize("name", WRITERS)
@pytest.mark.parametrize(("model", "rows", "objective"), [("tiny-gpt2", uf.answers, "causal-lm"),
                                                     ("tiny-bert", uf.reviews, "seq-cls")])  # fmt: skip
def test_each_format_trains_from_the_cli(tmp_path, capsys, name, model, rows, objective):
    path = tmp_path / name
    WRITERS[name](path, rows())
    out = tmp_path / "run"
    assert main(["train", "--model", model, "--dataset", str(path), *FAST, "--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["objective"] == objective and len(info["history"]["steps"]) == 3
    assert info["data_source"] == {"type": "folder" if name == "saved" else "file", "path": str(path)}


def test_a_saved_dataset_dict_keeps_its_splits(tmp_path):
    rows = uf.reviews()
    saved = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:40]),
                                  "validation": datasets.Dataset.from_list(rows[40:50]),
                                  "test": datasets.Dataset.from_list(rows[50:])})  # fmt: skip
    saved.save_to_disk(str(tmp_path / "reviews"))
    data = load_task_data(DataChoice(name=str(tmp_path / "reviews")))
    assert (len(data.train), len(data.validation), len(data.test)) == (40, 10, 10)


def test_spaces_around_header_names_are_trimmed_and_said_and_a_bom_is_ignored(tmp_path):
    path = tmp_path / "reviews.csv"
    frame = pd.DataFrame(uf.reviews()).rename(columns={"text": " review ", "label": " verdict"})
    path.write_text(frame.to_csv(index=False), encoding="utf-8-sig")  # a byte-order mark, as Excel writes
    data = load_task_data(DataChoice(name=str(path), columns={"text": "review", "label": "verdict"}))
    assert data.kind == "classification" and data.label_names == ["bad", "good"]
    assert any("trimmed the spaces around column names ' review ' → 'review'" in note for note in data.notes)


def test_a_task_column_mixture_prints_no_progress_bars(tmp_path, capfd):
    rows = [{**r, "task": "answers"} for r in uf.answers(30)] + [
        {**r, "task": "reviews", "source": r["text"], "target": r["label"]} for r in uf.reviews(30)
    ]
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps({k: r[k] for k in ("source", "target", "task")}) + "\n" for r in rows))
    capfd.readouterr()
    data = load_task_data(DataChoice(name=str(path), columns={"task": "task"}))
    assert sorted(data.members) == ["answers", "reviews"]
    assert "Filter" not in capfd.readouterr().err


def _empty_parquet(path):
    pd.DataFrame({"text": pd.Series([], dtype=str)}).to_parquet(path)


@pytest.mark.parametrize(
    ("name", "make", "needle"),
    [
        ("folder", lambda p: p.mkdir(), "is a folder without a train file; give a data file, a folder of split"),
        ("empty.parquet", _empty_parquet, "has no rows"),
        ("broken.parquet", lambda p: p.write_bytes(b"PAR1 not really"), "could not parse 'broken.parquet'"),
        ("notes.tsv.gz", lambda p: p.write_bytes(b"not gzip"), "could not parse 'notes.tsv.gz'"),
    ],
)
def test_bad_files_and_folders_fail_in_one_line(tmp_path, name, make, needle):
    make(tmp_path / name)
    with pytest.raises(DataError) as caught:
        load_task_data(DataChoice(name=str(tmp_path / name)))
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_evaluate_reads_another_format_with_the_runs_labels(tmp_path, capsys):
    _parquet(tmp_path / "reviews.parquet", uf.reviews())
    _tsv(tmp_path / "more.tsv", uf.reviews(n=20, seed=5))
    out = tmp_path / "run"
    assert main(["train", "--model", "tiny-bert", "--dataset", str(tmp_path / "reviews.parquet"), *FAST,
                 "--out", str(out)]) == 0  # fmt: skip
    assert main(["evaluate", "--run", str(out), "--dataset", str(tmp_path / "more.tsv"), "--split", "validation"]) == 0
    assert json.loads((out / "eval-validation.json").read_text())["rows"] == 2  # a tenth of 20, carved as validation
