"""Data held in the notebook: DataFrames, Datasets, DatasetDicts and lists of dicts train like files do."""

from __future__ import annotations

import json
import subprocess
import sys

import datasets
import pandas as pd
import pytest
import user_files as uf

import workbench as wb
from workbench.cli import main
from workbench.data.held import MEMORY_PREFIX, forget, held_splits
from workbench.errors import DataError

FAST = {"steps": 3, "lr": 0.1, "eval_every": 0, "eval_generate": 2, "max_new_tokens": 4}


def _dict_of(rows, test):
    return datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:test]),
                                 "test": datasets.Dataset.from_list(rows[test:])})  # fmt: skip


# object -> (rows, how to hold them, column mapping)
OBJECTS = {
    "DataFrame": lambda rows: pd.DataFrame(rows),
    "Dataset": datasets.Dataset.from_list,
    "DatasetDict": lambda rows: _dict_of(rows, 48),
    "list of dicts": list,
}
# (model, rows, columns, the run's objective, the headline metric)
KINDS = [
    ("tiny-gpt2", uf.answers, {}, "causal-lm", "exact_match"),
    ("tiny-gpt2", uf.reviews, {}, "causal-lm", "accuracy"),
    ("tiny-bert", uf.reviews, {}, "seq-cls", "accuracy"),
    ("tiny-bert", uf.stars, {"text": "review", "label": "stars"}, "seq-reg", "rmse"),
    ("tiny-bert", uf.tags, {}, "token-cls", "f1"),
]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k[0]}-{k[1].__name__}")
@pytest.mark.parametrize("holder", OBJECTS)
def test_each_object_trains_each_kind_like_a_file(make_config, holder, kind):
    model, rows, columns, objective, metric = kind
    data = OBJECTS[holder](rows())
    cfg = make_config(model, train=FAST)
    cfg.data.name, cfg.data.columns = data, columns
    run = wb.Run.create(cfg)
    assert run.config.data.name.startswith(MEMORY_PREFIX) and run.objective.name == objective and run.metric == metric
    history = run.train()
    assert len(history.steps) == 3 and metric in history.evals[-1].metrics
    source = run.data.source
    assert source["type"].endswith(holder.split()[-1] if holder != "list of dicts" else "list of dicts")
    assert sum(source["rows"].values()) == 60 and len(source["fingerprint"]) >= 16
    if holder == "DatasetDict":
        assert run.data.test is not None and len(run.data.test) == 12  # its own test split, kept


def test_the_same_object_keeps_its_name_and_another_gets_its_own(make_config):
    frame = pd.DataFrame(uf.reviews())
    cfg = make_config("tiny-bert", train=FAST)
    cfg.data.name = frame
    first = cfg.validate().data.name
    cfg.data.name = frame
    assert cfg.validate().data.name == first
    cfg.data.name = pd.DataFrame(uf.reviews(seed=1))
    assert cfg.validate().data.name != first
    assert wb.RunConfig.from_json(cfg.to_json()) == cfg  # the config carries the name, not the rows


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_an_exported_run_says_what_it_was_trained_on_and_reloads_without_the_object(make_config, tmp_path):
    cfg = make_config("tiny-bert", train=FAST)
    cfg.data.name = pd.DataFrame(uf.reviews())
    run = wb.Run.create(cfg)
    run.train()
    out = run.export(tmp_path / "run")
    info = json.loads((out / "run.json").read_text())
    assert info["data_source"]["type"] == "pandas DataFrame" and info["data_source"]["rows"] == {"train": 60}
    assert "text" in info["data_source"]["columns"] and "The food was" not in json.dumps(info["data_source"])
    card = (out / "README.md").read_text()
    assert "a pandas DataFrame held in memory: 60 rows" in card
    # Another process: the run loads and predicts; training it again needs the data, said in one line.
    script = (f"import workbench as wb; run = wb.Run.load({str(out)!r}); print(run.data_info['source']['type']); "
              f"print(run.label_names == ['bad', 'good'], run)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[:3] == ["pandas", "DataFrame", "True"] and "memory:DataFrame-" in done.stdout


def test_the_cli_given_such_a_run_says_the_data_was_in_memory(make_config, tmp_path, capsys):
    cfg = make_config("tiny-bert", train=FAST)
    cfg.data.name = pd.DataFrame(uf.reviews())
    run = wb.Run.create(cfg)
    run.train()
    out = run.export(tmp_path / "run")
    forget()  # as in a new process
    assert main(["train", "--config", str(out / "run.json"), "--out", str(tmp_path / "again")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was held in the memory of the Python process" in err[0] and "--dataset" in err[0]
    assert not (tmp_path / "again").exists()
    with pytest.raises(DataError, match="held in the memory"):
        held_splits(cfg.data.name)


@pytest.mark.parametrize(
    ("data", "columns", "needle"),
    [
        (pd.DataFrame(columns=["text", "label"]), {}, "has no rows"),
        (pd.DataFrame({"text": [["a", "b"]] * 10, "label": ["x", "y"] * 5}), {}, "holds a list in row 1"),
        (pd.DataFrame({"text": [f"r{i}" for i in range(10)], "label": ["x", None] * 5}), {}, "is empty in row 2"),
        (
            pd.DataFrame({"review": ["a"] * 10, "stars": [1.5, float("nan")] * 5}),
            {"text": "review", "label": "stars"},
            "regression needs a number",
        ),
        (pd.DataFrame([["a", "b"]] * 10, columns=["text", "text"]), {}, "duplicate column names (text)"),
        (42, {}, "a pandas DataFrame, a datasets Dataset or DatasetDict, or a list of dicts; got a int"),
        ([{"text": "a"}, "b"], {}, "item 1 of the list is a str"),
        (datasets.Dataset.from_list(uf.reviews()).to_iterable_dataset(), {}, "streaming IterableDataset"),
    ],
)
def test_bad_objects_fail_in_one_line_and_nothing_is_written(make_config, tmp_path, monkeypatch, data, columns,
                                                             needle):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    cfg = make_config("tiny-bert", train=FAST)
    cfg.data.name, cfg.data.columns = data, columns
    with pytest.raises(DataError) as caught:
        wb.Run.create(cfg)
    message = str(caught.value)
    assert needle in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_compare_multitask_sweep_and_analysis_take_a_dataframe(make_config, tmp_path):
    from workbench.comparison import Method, compare

    frame = pd.DataFrame(uf.answers())
    cfg = make_config("tiny-gpt2", train=FAST)
    cfg.data.name = frame
    results = compare(cfg, [Method("prefix 4", length=4), Method("LoRA", kind="lora")])
    assert [r.method.label for r in results] == ["prefix 4", "LoRA"] and all(r.metric == "exact_match" for r in results)
    mixed = make_config("tiny-gpt2", train=FAST)
    mixed.data.name, mixed.data.mix = frame, [datasets.Dataset.from_list(uf.reviews())]
    run = wb.Run.create(mixed)
    assert len(run.data.members) == 2 and run.data.source["type"] == "mixture"
    run.train()
    assert wb.analyse(run, rows=8, metric_rows=0).slots is not None
    study = wb.sweep(cfg, ["lr=1e-2:1e-1:log"], trials=2, out=tmp_path / "sweep")
    assert len(study.trials) == 2


def test_an_object_edited_in_place_is_fingerprinted_as_it_is_when_read(make_config):
    frame = pd.DataFrame(uf.reviews())
    cfg = make_config("tiny-bert", train=FAST)
    cfg.data.name = frame
    first = wb.Run.create(cfg).data.source["fingerprint"]
    frame.loc[0, "text"] = "The food was superb and the staff was lovely ."  # same shape, new content
    cfg.data.name = frame
    again = wb.Run.create(cfg)
    assert again.data.source["fingerprint"] != first and again.data.train is not None


def test_the_panels_data_cache_sees_a_frame_edited_in_place(make_config):
    from workbench.ui.loader import Loader

    edited = "Edited in place : the soup was cold ."
    frame = pd.DataFrame(uf.reviews())
    loader, cfg = Loader(lambda: None), make_config("tiny-bert", train=FAST)
    cfg.data.name = frame
    cfg.validate()  # as the panel's settings do: the frame gets its memory: name
    texts = set(loader.data(cfg).train["text"]) | set(loader.data(cfg).validation["text"])
    assert loader.data(cfg) is loader.data(cfg)  # unchanged content: read once
    frame.loc[0, "text"] = edited  # same shape, new content
    cfg.data.name = frame
    cfg.validate()
    again = loader.data(cfg)
    assert edited in set(again.train["text"]) | set(again.validation["text"]) and edited not in texts
