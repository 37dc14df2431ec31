"""A shared task's files as they come: a folder of split files, a given dev file, words a tokenizer drops."""

from __future__ import annotations

import json

import pytest
import user_files

from workbench import Run
from workbench.config import DataChoice
from workbench.data import load_task_data
from workbench.errors import DataError


def _tags(n: int, seed: int) -> list[dict]:
    return user_files.tags(n, seed=seed)


def test_a_folder_of_split_files_keeps_its_splits(tmp_path):
    for split, n in (("train", 30), ("dev", 7), ("test", 5)):
        user_files.write(tmp_path / f"{split}.jsonl", _tags(n, seed=n))
    (tmp_path / "README.md").write_text("where the data comes from")  # not a data file: left alone
    data = load_task_data(DataChoice(str(tmp_path)))
    assert (len(data.train), len(data.validation), len(data.test)) == (30, 7, 5)


def test_a_given_validation_file_is_the_validation_split(tmp_path, make_config, capsys):
    train = user_files.write(tmp_path / "train.jsonl", _tags(30, seed=1))
    dev = user_files.write(tmp_path / "more.jsonl", _tags(9, seed=2))
    data = load_task_data(DataChoice(str(train), validation=str(dev)))
    assert (len(data.train), len(data.validation)) == (30, 9)  # nothing carved from train
    assert data.source["validation"] == str(dev.resolve())
    from workbench.cli import main

    out = tmp_path / "run"
    args = ["train", "--model", "tiny-bert", "--dataset", str(train), "--validation", str(dev), "--steps", "4",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["data"]["validation"] == str(dev) and info["final_report"]["split"] == "validation"
    printed = capsys.readouterr().out
    assert "entity level (seqeval)" in printed and "token level (scikit-learn)" in printed  # both reports
    bad = user_files.write(tmp_path / "bad.jsonl", [{"words": ["a"], "labels": ["O"]}])
    with pytest.raises(DataError, match=r"bad\.jsonl lacks tokens") as err:
        load_task_data(DataChoice(str(train), validation=str(bad)))
    assert "\n" not in str(err.value)


def test_every_word_gets_a_prediction_even_without_a_token(make_config, tmp_path):
    rows = [{"tokens": ["I", "had", food, "food", "at", "the", "riverside", "."],
             "tags": ["O", "O", "B-food", "O", "O", "O", "B-area", "O"]}
            for food in ("Italian", "French", "Chinese", "Indian") for _ in range(8)]  # fmt: skip
    path = user_files.write(tmp_path / "long.jsonl", rows)
    # max_length 8: [CLS] + 6 words + [SEP]; the last two words of every row are cut off.
    run = Run.create(make_config("tiny-bert", str(path), data={"max_length": 8}, train={"steps": 4}))
    feature = run.splits[1].features[0]
    assert feature["n_words"] == 8 and feature["words"] == list(range(6))
    result = run.evaluate(report=True)
    assert all(len(p) == len(r["tags"]) for p, r in zip(result.predictions, result.rows))
    assert all(p[6:] == ["O", "O"] for p in result.predictions)  # the words it never saw: outside
    assert "B-area" in result.report["text"]  # scored against every word's tag
