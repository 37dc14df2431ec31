"""Mixed-prefix batches: every row gets its own prefix, outputs equal single-prefix runs."""

import json

import pytest

from workbench import Run
from workbench.cli import main
from workbench.errors import CompatibilityError, ConfigError
from workbench.prefix_bank import load_prefix_bank

PROMPTS = [
    "name[Aromi] food[Italian] area[riverside]",
    "name[Zizzi]",
    "name[The Golden Curry] eatType[pub] near[Cotto] priceRange[cheap] customerRating[high]",
    "name[Cotto] area[city centre]",
]


@pytest.fixture(scope="module", params=["tiny-gpt2", "tiny-llama"])
def runs(request, tmp_path_factory):
    from workbench import RunConfig

    paths = []
    # three tasks, so the prefixes steer the same prompt to different outputs; unequal lengths
    for seed, (length, dataset) in enumerate([(2, "toy-e2e"), (5, "toy-sentiment"), (8, "toy-ner")]):
        cfg = RunConfig()
        cfg.model.name, cfg.data.name, cfg.prefix.length = request.param, dataset, length
        cfg.data.max_train_examples, cfg.data.max_eval_examples = 128, 8
        cfg.train.steps, cfg.train.lr, cfg.train.seed = 40, 1.0, seed
        cfg.train.eval_every, cfg.train.eval_generate = 0, 0
        run = Run.create(cfg)
        run.train()
        paths.append(str(run.export(tmp_path_factory.mktemp("bank") / f"p{length}")))
    return paths


def test_mixed_batch_equals_each_prefix_on_its_own(runs):
    bank = load_prefix_bank(runs)
    prompts = PROMPTS * 3  # prompts of different lengths: left padding inside the batch
    names = [runs[i % 3] for i in range(len(prompts))]
    mixed = bank.generate(prompts, names, max_new_tokens=10)
    alone = {path: Run.load(path) for path in runs}
    single = [alone[n].generate([p], max_new_tokens=10)[0] for p, n in zip(prompts, names)]
    assert mixed == single
    # the prefixes really differ, so rows could not have been served by the wrong one unnoticed
    same_prompt = [bank.generate([PROMPTS[0]], [path], max_new_tokens=10)[0] for path in runs]
    assert len(set(same_prompt)) > 1


def test_bank_refuses_other_bases_and_unknown_names(runs, tmp_path, make_config):
    bank = load_prefix_bank(runs[:1])
    with pytest.raises(ConfigError, match="no prefix named 'nope'"):
        bank.generate(["x"], ["nope"])
    other = Run.create(make_config("tiny-opt", train={"steps": 3}))
    other.train()
    path = other.export(tmp_path / "opt")
    with pytest.raises(CompatibilityError, match="a bank serves prefixes of one base model"):
        load_prefix_bank([*runs[:1], str(path)])


def test_cli_generates_rows_from_a_jsonl_file(runs, tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({"prompt": p, "run": runs[i % 3]}) for i, p in enumerate(PROMPTS)))
    args = ["generate", "--prompts", str(rows), "--max-new-tokens", "6"]
    for path in runs:
        args += ["--run", path]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    expected = load_prefix_bank(runs).generate(PROMPTS, [runs[i % 3] for i in range(4)], max_new_tokens=6)
    assert lines == expected
    rows.write_text('{"prompt": "x", "run": "elsewhere"}\n')
    assert main(args) == 2
    assert "not one of the --run directories" in capsys.readouterr().err


def test_bank_refuses_a_non_decoder_adapter_and_mismatched_rows(runs, tmp_path, make_config):
    bank = load_prefix_bank(runs[:1])
    t5 = Run.create(make_config("tiny-t5", train={"steps": 3}))
    t5.train()
    path = t5.export(tmp_path / "t5")
    with pytest.raises(CompatibilityError, match="is not a causal-LM prefix adapter"):
        bank.add("t5", path / "adapter")
    with pytest.raises(CompatibilityError, match="needs a decoder"):
        load_prefix_bank([str(path)])
    with pytest.raises(ValueError, match="2 prompts but 1 prefix names"):
        bank.generate(["a", "b"], [runs[0]])


def test_cli_rows_without_a_run_name_use_the_only_run_and_bad_rows_are_named(runs, tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": PROMPTS[0]}) + "\n\n" + json.dumps({"prompt": PROMPTS[1]}) + "\n")
    assert main(["generate", "--run", runs[0], "--prompts", str(rows), "--max-new-tokens", "5"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == Run.load(runs[0]).generate(PROMPTS[:2], max_new_tokens=5)
    rows.write_text('{"prompt": "ok"}\n{not json\n')
    assert main(["generate", "--run", runs[0], "--prompts", str(rows)]) == 2
    assert f"{rows}:2 is not a row" in capsys.readouterr().err
    assert main(["generate", "--run", runs[0], "--prompts", str(tmp_path / "missing.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_no_prefix_asks_the_frozen_base(runs, capsys):
    assert main(["generate", "--run", runs[0], "--prompt", PROMPTS[0], "--no-prefix", "--max-new-tokens", "5"]) == 0
    bare = capsys.readouterr().out.strip()
    assert bare == Run.load(runs[0]).generate([PROMPTS[0]], use_prefix=False, max_new_tokens=5)[0]
    assert main(["generate", "--run", runs[0], "--run", runs[1], "--prompt", "x", "--no-prefix"]) == 2
    assert "--no-prefix takes a single --run" in capsys.readouterr().err
