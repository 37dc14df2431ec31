"""The three analyses together: from Python on every family, and from the CLI on an exported run."""

from __future__ import annotations

import json

import pytest
import torch

from workbench import Run
from workbench.analysis import analyse
from workbench.cli import main


@pytest.mark.parametrize(("model", "dataset"), [("tiny-gpt2", "toy-e2e"), ("tiny-t5", "toy-e2e"),
                                                ("tiny-bert", "toy-sentiment")])  # fmt: skip
def test_every_family_is_analysed_and_its_prefix_left_bit_identical(make_config, model, dataset):
    run = Run.create(make_config(model, dataset, train={"steps": 6}))
    run.train()
    before = {n: p.detach().clone() for n, p in run.live_model.named_parameters() if p.requires_grad}
    result = analyse(run, rows=16, metric_rows=2, top=2)
    after = dict(run.live_model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before)
    layers = run.live_model.active_peft_config.num_layers
    assert len(result.slots.without) == 5 and len(result.layers.without) == layers
    assert len(result.readout.by_layer) == layers
    assert set(result.seconds) == {"slot ablation", "layer ablation", "readout"}
    assert result.slots.full.metric is not None  # the headline metric, from heads or 2 generated rows
    json.dumps(result.to_dict())  # plain data


def test_the_cli_writes_figures_and_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "tiny-demo", "--steps", "30", "--prefix-length", "4", "--max-train-examples",
                 "128", "--eval-every", "0", "--out", str(out)]) == 0  # fmt: skip
    adapter = (out / "adapter" / "adapter_model.safetensors").read_bytes()
    capsys.readouterr()
    assert main(["analyse", "--run", str(out), "--rows", "16", "--metric-rows", "4"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("slots: ") and "\nlayers: " in printed and "nearest tokens (keys)" in printed
    folder = out / "analysis"
    assert sorted(p.name for p in folder.iterdir()) == ["analysis.json", "layer-ablation.html", "readout.html",
                                                         "slot-ablation.html"]  # fmt: skip
    summary = json.loads((folder / "analysis.json").read_text())
    assert summary["step"] == 30 and len(summary["slots"]["without"]) == 4
    assert summary["slots"]["suggestion"] in summary["summary"]
    assert "Slot ablation" in (folder / "slot-ablation.html").read_text()
    assert (out / "adapter" / "adapter_model.safetensors").read_bytes() == adapter


@pytest.mark.parametrize(("argv", "message"), [
    (["--rows", "0"], "--rows is 0; give at least 1"),
    (["--top", "0"], "--top is 0"),
])  # fmt: skip
def test_bad_cli_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, message):
    (tmp_path / "run.json").write_text("{}")
    assert main(["analyse", "--run", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["analyse", "--run", str(tmp_path)]) == 2
    assert "is not a complete run directory: run.json is missing" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("model", "datasets"), [
    ("tiny-qwen2", ["toy-e2e"]), ("tiny-mistral", ["toy-e2e"]), ("tiny-gpt-neox", ["toy-e2e"]),
    ("tiny-opt", ["toy-e2e"]), ("tiny-gemma", ["toy-e2e"]), ("tiny-phi3", ["toy-e2e"]),
    ("tiny-roberta", ["toy-sentiment"]), ("tiny-bert", ["toy-ner"]), ("tiny-demo", ["toy-e2e", "toy-sentiment"]),
])  # fmt: skip
def test_every_builtin_family_and_kind_is_masked_exactly_and_analysed(make_config, model, datasets):
    from workbench.analysis.masking import prefix_keys, prefix_visibility
    from workbench.data import Collator

    run = Run.create(make_config(model, datasets[0], data={"mix": datasets[1:]}, prefix={"length": 3},
                                 train={"steps": 3}))  # fmt: skip
    run.train()
    model_, (_, val) = run.live_model.eval(), run.splits
    batch = Collator(run.tokenizer.pad_token_id)(val.features[:4])
    with torch.no_grad():
        plain = float(model_(**batch).loss)
        with prefix_visibility(model_, torch.ones(len(prefix_keys(model_)), 3, dtype=torch.bool)):
            masked = float(model_(**batch).loss)
    assert masked == pytest.approx(plain, abs=1e-4)  # nothing hidden: PEFT's own forward (GQA, sliding window, …)
    result = analyse(run, rows=8, metric_rows=2, top=2)
    assert result.slots.metric == run.metric and result.slots.full.metric is not None


def test_a_run_cannot_train_while_it_is_analysed_nor_be_analysed_while_it_trains(make_config):
    run = Run.create(make_config("tiny-gpt2", train={"steps": 4}))
    with run.exclusive("analysing it"), pytest.raises(RuntimeError, match="already training"):
        run.train()
    seen = []

    def analyse_now(event):
        if event.kind == "step" and not seen:
            with pytest.raises(RuntimeError, match=r"this run is training; stop it .* before analysing it"):
                analyse(run)
            seen.append(event.step)

    run.train([analyse_now])
    assert seen == [1] and run.history.last_step == 4


def test_progress_says_how_long_is_left_from_the_pace_so_far(make_config):
    from workbench.analysis.combined import _time_left

    assert _time_left(10.0, 1.0, 10.0) == " · about 1 min 30 s left"
    assert _time_left(10.0, 5.0, 8.0) == " · about 6 s left"
    assert _time_left(0.5, 1.0, 10.0) == "" and _time_left(10.0, 0.0, 10.0) == ""  # no pace yet
    said = []
    analyse(Run.create(make_config("tiny-gpt2")), rows=8, metric_rows=0, progress=said.append)
    assert said[0] == "slot ablation …" and any(text.startswith("layer 1 (2 of 2)") for text in said)


def test_rows_not_given_are_fitted_to_the_time_and_say_so(make_config, monkeypatch):
    """Without ``rows`` the analysis times a pass over 16 rows and scores as many of the first 64 as fit the
    budget: all of them on a tiny model, 16 when the budget is too short for more, and it says which."""
    from workbench.analysis import combined

    run = Run.create(make_config("tiny-gpt2"))
    available = min(len(run.data.validation), combined.ROWS[1])
    assert available > combined.ROWS[0]  # the toy data has rows to choose from
    roomy = analyse(run, metric_rows=0, top=1)
    assert (roomy.rows, roomy.fitted, roomy.slots.rows) == (available, False, available)
    monkeypatch.setattr(combined, "BUDGET_S", 1e-9)
    tight = analyse(run, metric_rows=0, top=1)
    assert (tight.rows, tight.fitted, tight.layers.rows) == (combined.ROWS[0], True, combined.ROWS[0])
    assert tight.scope().startswith("16 validation rows (fitted to about 0 minutes; ask for 64 rows")
    assert roomy.scope().startswith(f"{available} validation rows; slot ablation ")
    # The probe's pass is the analysis's own: the full prefix scores as it does when 16 rows are asked for.
    assert tight.slots.full == analyse(run, rows=16, metric_rows=0, top=1).slots.full
