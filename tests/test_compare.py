"""The method comparison: every kind trains on the same data and reports honest sizes."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.comparison import Method, compare, format_table
from workbench.errors import ConfigError


def test_methods_train_and_report_params_sizes_and_metric(make_config):
    cfg = make_config(train={"steps": 4})
    methods = [Method("prefix 4", length=4), Method("prompt 4", kind="prompt", length=4),
               Method("lora", kind="lora", rank=2), Method("full", kind="full"), Method("few", examples=8)]  # fmt: skip
    results = compare(cfg, methods)
    by = {r.method.label: r for r in results}
    assert by["prefix 4"].trainable == 4 * 2 * 2 * 64  # layers x (key, value) x width
    assert by["prompt 4"].trainable == 4 * 64
    assert by["prefix 4"].trainable < by["lora"].trainable < by["full"].trainable
    assert by["prefix 4"].stored_bytes < by["full"].stored_bytes
    assert all(r.metric == "slot_coverage" and 0.0 <= r.value <= 1.0 and r.train_s > 0 for r in results)
    assert "prompt 4" in format_table(results)
    assert by["few"].examples == 8 and all(r.examples == 256 for r in results if r.method.label != "few")
    assert all(r.step_s > 0 for r in results)
    # A training step holds more with every weight trained: gradients and AdamW state for all of them.
    assert by["prefix 4"].memory_bytes < by["lora"].memory_bytes < by["full"].memory_bytes


def test_records_cap_the_training_data_by_source_on_a_file_of_my_own(tmp_path, make_config):
    # Three references for each of 12 records, as E2E has several per record.
    rows = [{"mr": f"name[R{i}] food[Thai]", "ref": f"R{i} serves Thai food, version {k}"}
            for i in range(12) for k in range(3)]  # fmt: skip
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = make_config(train={"steps": 3})
    cfg.data.name, cfg.data.columns, cfg.data.max_train_examples = str(path), {"source": "mr", "target": "ref"}, None
    cfg.data.validation_fraction = 0.25
    [few, all_] = compare(cfg, [Method("2 records", length=2, records=2), Method("all", length=2)])
    assert (few.records, few.examples) == (2, 6)
    assert (all_.records, all_.examples) == (9, 27)  # 3 of 12 records held out whole


def test_cli_compare_takes_my_file_columns_and_size(tmp_path, capsys):
    path = tmp_path / "reviews.csv"
    path.write_text("review,verdict\n" + "".join(f"{w} food here {i},{v}\n" for i in range(20)
                                                  for w, v in (("great", "yes"), ("awful", "no"))))  # fmt: skip
    out = tmp_path / "cmp"
    assert main(["compare", "--model", "tiny-bert", "--dataset", str(path), "--column", "text=review", "--column",
                 "label=verdict", "--metric", "f1", "--max-train-examples", "12", "--steps", "2", "--only", "prefix 1",
                 "--only", "LoRA r=8", "--out", str(out)]) == 0  # fmt: skip
    rows = json.loads((out / "compare.json").read_text())
    assert [r["metric"] for r in rows] == ["f1", "f1"] and [r["examples"] for r in rows] == [12, 12]
    assert all(r["memory_bytes"] > 0 and r["step_s"] > 0 for r in rows)


def test_cli_compare_writes_json_and_chart(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "--model", "tiny-gpt2", "--steps", "3", "--only", "prefix 1", "--out", str(out)])
    assert code == 0
    rows = json.loads((out / "compare.json").read_text())
    assert [r["method"]["label"] for r in rows] == ["prefix 1"]
    printed = capsys.readouterr()
    assert (out / "compare.html").is_file() and "prefix 1" in printed.out and "compare: 100%" in printed.err
    assert main(["compare", "--only", "nothing-like-this"]) == 2


def test_every_kind_tags_words_with_a_token_head(make_config):
    # PEFT's prompt tuning puts its virtual tokens before a token classifier's logits but not its labels: compare
    # lines them up, so NER can be compared across all four kinds.
    cfg = make_config("tiny-bert", "toy-ner", train={"steps": 4})
    results = compare(cfg, [Method("prefix", length=3), Method("prompt", kind="prompt", length=3),
                            Method("lora", kind="lora", rank=2), Method("full", kind="full")])  # fmt: skip
    assert [r.metric for r in results] == ["f1"] * 4 and all(0.0 <= r.value <= 1.0 for r in results)
    tags = 7  # toy-ner: O and B-/I- of three types
    assert results[1].trainable == 3 * 64 + 64 * tags + tags  # the prompt and the token head


def test_a_new_head_learns_at_the_runs_rate_whichever_way_the_base_adapts(make_config, monkeypatch):
    import workbench.train as train

    seen = []
    original = train._param_groups
    monkeypatch.setattr(train, "_param_groups", lambda model, s: seen.append((s.lr, s.head_lr)) or original(model, s))
    cfg = make_config("tiny-bert", "toy-sentiment", train={"steps": 2, "lr": 2e-2, "warmup_steps": 0})
    compare(cfg, [Method("lora", kind="lora", rank=2, lr=1e-3), Method("full", kind="full", lr=1e-4)])
    assert seen == [(1e-3, 3e-2), (1e-4, 3e-2)]  # the base at the method's rate, the head at the run's (default)
    cfg.train.head_lr = 5e-2
    compare(cfg, [Method("full", kind="full", lr=1e-4)])
    assert seen[-1] == (1e-4, 5e-2)
    cfg.train.head_lr = None  # the head at the run's prefix rate
    compare(cfg, [Method("full", kind="full", lr=1e-4)])
    assert seen[-1] == (1e-4, 2e-2)


def test_each_method_draws_a_learning_curve_on_the_same_steps(make_config):
    cfg = make_config(train={"steps": 6})
    results = compare(cfg, [Method("prefix 4", length=4), Method("lora", kind="lora", rank=2)], eval_every=2)
    for r in results:
        assert [p.step for p in r.curve] == [2, 4, 6]
        assert 0 < r.curve[0].seconds < r.curve[1].seconds < r.curve[2].seconds <= r.train_s
        assert r.curve[-1].value == r.value and r.curve[-1].loss == r.loss  # the last point is the result


@pytest.mark.parametrize(("method", "says"), [
    (Method("long warmup", warmup_steps=4), "method 'long warmup': warmup_steps (4) must be smaller than steps (4)"),
    (Method("drops all", dropout=1.0), "method 'drops all': PrefixSettings.dropout is 1.0"),
    (Method("adapters", kind="ia3"), "method 'adapters': unknown kind 'ia3'; use prefix, prompt, lora, full"),
])  # fmt: skip
def test_a_bad_method_is_refused_in_one_line_before_any_method_trains(make_config, method, says):
    trained = []
    with pytest.raises(ConfigError) as refused:
        compare(make_config(train={"steps": 4}), [Method("fine", length=2), method], on_result=trained.append)
    assert str(refused.value).startswith(says) and "\n" not in str(refused.value)
    assert trained == []


def test_a_methods_warmup_and_prefix_dropout_reach_its_training(make_config, monkeypatch):
    import workbench.comparison as comparison

    prefixes, schedules = [], []
    attach, trainer = comparison.attach_prefix, comparison.Trainer
    monkeypatch.setattr(comparison, "attach_prefix", lambda loaded, settings, **kw: prefixes.append(settings.dropout)
                        or attach(loaded, settings, **kw))  # fmt: skip
    monkeypatch.setattr(comparison, "Trainer", lambda *args, **kw: schedules.append(args[-1].warmup())
                        or trainer(*args, **kw))  # fmt: skip
    config = make_config(train={"steps": 4})
    compare(config, [Method("warm", warmup_steps=3, dropout=0.2), Method("plain")])
    assert prefixes == [0.2, 0.0] and schedules == [3, config.train.warmup()]  # "plain": the config's warmup
