"""run.json as a RunRecord: what a run writes reads back as the same record, and every broken file is one line."""

from __future__ import annotations

import dataclasses
import json

import pytest

from workbench import Run
from workbench.errors import ExportError
from workbench.run_record import RUN_FORMAT, RunRecord
from workbench.rundir import read_history, read_run_record


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from workbench import RunConfig

    cfg = RunConfig()
    cfg.data.max_train_examples, cfg.data.max_eval_examples = 32, 4
    cfg.train.steps, cfg.train.eval_generate, cfg.train.max_new_tokens = 4, 2, 8
    run = Run.create(cfg)
    run.train()
    return run, run.export(tmp_path_factory.mktemp("record") / "run")


def test_what_a_run_writes_reads_back_as_the_same_record(exported):
    run, path = exported
    written, read = run.record(), read_run_record(path)
    assert isinstance(read, RunRecord) and read.history.last_step == 4 == read.steps_done
    assert dataclasses.replace(read, created="") == dataclasses.replace(written, created="")
    assert read.config == run.config and read.data_info() == run.data_info
    assert read_history(path) == run.history


@pytest.mark.parametrize(("edit", "says"), [
    (lambda d: d.update(format="prefix-workbench-run/0"), "has format 'prefix-workbench-run/0'; this workbench reads"),
    (lambda d: d.pop("objective"), "lacks objective (edited or cut short?)"),
    (lambda d: d["config"]["train"].update(steps=0), "the settings in run.json of"),
    (lambda d: d["config"].update(colour="red"), "unknown run config setting(s) colour"),
    (lambda d: d["history"].update(steps=[{"stride": 1}]), "the history in run.json of"),
])  # fmt: skip
def test_a_broken_record_is_one_line_naming_the_directory(exported, tmp_path, edit, says):
    _run, path = exported
    data = json.loads((path / "run.json").read_text())
    assert data["format"] == RUN_FORMAT
    edit(data)
    with pytest.raises(ExportError) as info:
        RunRecord.from_dict(data, str(tmp_path / "broken"))
    message = str(info.value)
    assert says in message and str(tmp_path / "broken") in message and "\n" not in message


def test_a_record_written_before_objective_was_named_so_reads_the_same(exported, tmp_path):
    # run.json said "task" for the objective until 2026-12-03; those run directories load unchanged.
    run, path = exported
    data = json.loads((path / "run.json").read_text())
    data["task"] = data.pop("objective")
    old = RunRecord.from_dict(data, str(tmp_path / "old"))
    assert old.objective == "causal-lm" == run.objective.name
    assert dataclasses.replace(old, created="") == dataclasses.replace(run.record(), created="")


def test_run_task_is_the_objective_with_a_deprecation_warning(exported):
    run, _path = exported
    with pytest.warns(DeprecationWarning, match="Run.task is now Run.objective"):
        assert run.task is run.objective
    with pytest.warns(DeprecationWarning, match="LoadedModel.task is now LoadedModel.objective"):
        assert run.loaded.task is run.objective


def test_a_record_written_before_entities_were_text_reads_as_one_tag_per_word(exported, tmp_path):
    # Until 2026-12-03 a model that writes learned tagged words one tag per word; a setting older files lack
    # reads as what their run trained under, not as today's default.
    _run, path = exported
    data = json.loads((path / "run.json").read_text())
    assert RunRecord.from_dict(data, "now").config.data.tag_text == "auto"
    del data["config"]["data"]["tag_text"]
    assert RunRecord.from_dict(data, str(tmp_path / "old")).config.data.tag_text == "tags"
