import json

import pytest

from workbench.config import DataChoice
from workbench.data import load_task_data
from workbench.errors import DataError


@pytest.mark.parametrize(("name", "column"), [("toy-e2e", "source"), ("toy-sentiment", "text"), ("toy-ner", "tokens")])
def test_builtins_have_standard_columns_and_disjoint_splits(name, column):
    data = load_task_data(DataChoice(name, max_eval_examples=1000))
    n = len(data.validation)  # toy-ner's small world has fewer unseen inputs than the 300 asked for
    assert data.train.column_names[0] == column and (n == 300 or (name == "toy-ner" and n >= 200))
    seen = {str(v) for v in data.train[column]}
    assert not [v for v in data.validation[column] if str(v) in seen]  # no validation input was trained on
    assert len({str(v) for v in data.validation[column]}) == n


def test_builtin_labels_and_limits():
    assert load_task_data(DataChoice("toy-e2e")).validation.num_rows == 200  # max_eval_examples
    assert load_task_data(DataChoice("toy-sentiment")).label_names == ["negative", "positive"]
    ner = load_task_data(DataChoice("toy-ner", max_train_examples=10))
    assert len(ner.train) == 10 and ner.label_names[0] == "O"


def test_a_file_is_split_into_disjoint_rows(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("source,target\n" + "\n".join(f"a{i},b{i}" for i in range(50)), encoding="utf-8")
    data = load_task_data(DataChoice(str(path), validation_fraction=0.2, test_fraction=0.2))
    parts = [set(ds["source"]) for ds in (data.train, data.validation, data.test)]
    assert [len(p) for p in parts] == [32, 8, 10]  # test first (a fifth), then validation (a fifth of the rest)
    assert set.union(*parts) == {f"a{i}" for i in range(50)}


def test_local_jsonl_with_column_mapping_and_string_labels(tmp_path):
    path = tmp_path / "reviews.jsonl"
    rows = [{"review": f"text {i}", "stars": "good" if i % 2 else "bad"} for i in range(20)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    data = load_task_data(DataChoice(str(path), columns={"text": "review", "label": "stars"}))
    assert data.kind == "classification" and data.label_names == ["bad", "good"]
    assert len(data.train) + len(data.validation) == 20
    assert data.render(data.train[0])[1] in ("bad", "good")


def test_local_csv_infers_text_kind(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("source,target\n" + "\n".join(f"a{i},b{i}" for i in range(10)), encoding="utf-8")
    data = load_task_data(DataChoice(str(path)))
    assert data.kind == "text" and data.preview(1)[0][0].startswith("a")


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (None, "missing.csv", "does not exist"),
        (b"\xff\xfe\x00\x01binary\x00", "blob.csv", "not UTF-8"),
        ("\u00e9t\u00e9".encode("latin-1") + b",x\n", "latin.csv", "not UTF-8"),
        (b"a,b\n1,2\n3,4\n", "wrong.csv", "cannot tell what task"),
        (b"source,target\n", "empty.csv", "has no rows"),
        (b"source,target\na,b\n", "one.csv", "need at least 2"),
        (b"x", "notes.txt", "use a .csv, .tsv, .json, .jsonl, .parquet, .arrow file"),
    ],
)
def test_bad_local_files_fail_with_one_clear_line(tmp_path, content, name, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_task_data(DataChoice(str(path)))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_mapped_column_that_does_not_exist_is_named(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("mr,ref\n" + "\n".join(f"a{i},b{i}" for i in range(10)), encoding="utf-8")
    with pytest.raises(DataError, match="lacks target"):
        load_task_data(DataChoice(str(path), columns={"source": "mr", "target": "reference"}))


def test_unknown_hub_dataset_fails_fast_offline():
    with pytest.raises(DataError, match="could not load dataset 'no-such-user/no-such-set'"):
        load_task_data(DataChoice("no-such-user/no-such-set"))


@pytest.mark.hub
def test_curated_hub_dataset_loads_with_its_mapping():
    data = load_task_data(DataChoice("nyu-mll/glue", subset="sst2", max_train_examples=50))
    assert data.kind == "classification" and len(data.train) == 50


def test_targets_with_newlines_keep_generation_multi_line(tmp_path):
    import json

    from workbench.config import DataChoice
    from workbench.data import load_task_data

    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps({"source": f"q{i}", "target": f"a{i}"}) + "\n" for i in range(10)))
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"source": f"q{i}", "target": f"line {i}\nand more"}) + "\n" for i in range(10)))
    assert load_task_data(DataChoice(name=str(one))).one_line()
    assert not load_task_data(DataChoice(name=str(many))).one_line()


def test_e2e_files_as_they_come_need_no_column_mapping_alone_or_in_a_mixture(tmp_path):
    rows = "".join(f'"name[A{i}], food[Thai]","A{i} serves Thai food."\n' for i in range(20))
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "devset.csv").write_text("mr,ref\n" + rows, encoding="utf-8")  # E2E's own column names
    data = load_task_data(DataChoice(name=str(tmp_path / "e2e" / "devset.csv")), seed=0)
    assert data.kind == "text" and data.train[0]["source"].startswith("name[A")
    assert "columns read as E2E's CSV files name them: mr -> source, ref -> target" in data.notes
    (tmp_path / "intents.csv").write_text("text,label\n" + "".join(f"q{i},l{i % 2}\n" for i in range(20)))
    e2e = str(tmp_path / "e2e" / "devset.csv")
    mixed = load_task_data(DataChoice(name=e2e, mix=[str(tmp_path / "intents.csv")]), seed=0)
    assert set(mixed.members) == {"e2e", "intents"} and mixed.members["e2e"].kind == "text"
    # A mapping the person gives wins, and a file that names a role itself is read by that name.
    both = "".join(f"m{i},r{i},s{i},t{i}\n" for i in range(20))
    (tmp_path / "both.csv").write_text("mr,ref,source,target\n" + both, encoding="utf-8")
    assert load_task_data(DataChoice(name=str(tmp_path / "both.csv")), seed=0).train[0]["source"][0] == "s"
    mapped = DataChoice(name=str(tmp_path / "both.csv"), columns={"source": "ref", "target": "mr"})
    row = load_task_data(mapped, seed=0).train[0]
    assert row["source"][0] == "r" and row["target"][0] == "m"
