import math

import pytest

from workbench.config import PrefixSettings, RunConfig, TrainSettings, field_range
from workbench.errors import ConfigError


def test_json_round_trip_keeps_every_setting():
    cfg = RunConfig()
    cfg.model.name, cfg.data.columns = "gpt2", {"source": "mr", "target": "ref"}
    cfg.prefix.length, cfg.prefix.init, cfg.prefix.init_text = 30, "text", "describe :"
    cfg.train.lr, cfg.train.steps = 3e-2, 123
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg
    assert isinstance(again.train.lr, float)


def test_integral_json_number_becomes_float_for_float_fields():
    cfg = RunConfig.from_dict({"train": {"lr": 1}})
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)


@pytest.mark.parametrize(
    ("section", "name", "value", "needle"),
    [
        ("prefix", "length", 0, "allowed range is [1, 2048]"),
        ("prefix", "length", -3, "allowed range"),
        ("train", "lr", 0.0, "allowed range is (0, 10]"),
        ("train", "lr", math.nan, "lr is nan"),
        ("train", "lr", -1e-3, "allowed range"),
        ("train", "batch_size", 0, "batch_size"),
        ("train", "steps", 0, "steps"),
        ("train", "steps", 2.5, "must be an integer"),
        ("prefix", "init", "magic", "choose one of auto, random, zero, matched, example, text"),
        ("train", "schedule", "steep", "choose one of"),
    ],
)
def test_out_of_range_settings_are_refused_with_the_allowed_range(section, name, value, needle):
    cfg = RunConfig()
    setattr(getattr(cfg, section), name, value)
    with pytest.raises(ConfigError, match=None) as info:
        cfg.validate()
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_keys_and_bad_json_are_named():
    with pytest.raises(ConfigError, match="unknown PrefixSettings setting"):
        RunConfig.from_dict({"prefix": {"lenght": 5}})
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{nope")
    with pytest.raises(ConfigError, match="unknown run config"):
        RunConfig.from_dict({"extra": {}})


def test_text_init_needs_text_and_warmup_must_fit():
    cfg = RunConfig()
    cfg.prefix.init = "text"
    with pytest.raises(ConfigError, match="init_text"):
        cfg.validate()
    cfg = RunConfig()
    cfg.train.steps, cfg.train.warmup_steps = 10, 10
    with pytest.raises(ConfigError, match="warmup_steps"):
        cfg.validate()


def test_field_range_serves_sliders():
    assert field_range(PrefixSettings, "length") == (1, 2048)
    assert field_range(TrainSettings, "lr") == (0.0, 10.0)
    assert field_range(PrefixSettings, "projection") is None


def test_load_reads_a_saved_config_file(tmp_path):
    cfg = RunConfig()
    cfg.prefix.length, cfg.data.metric, cfg.train.warmup_steps = 7, "bleu", 3
    path = tmp_path / "config.json"
    path.write_text(cfg.to_json(), encoding="utf-8")
    assert RunConfig.load(path) == cfg
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config file .* must be a JSON object .*, not a JSON list"):
        RunConfig.load(path)
    with pytest.raises(ConfigError, match=r"config file .*missing.json' does not exist"):
        RunConfig.load(tmp_path / "missing.json")


def test_short_names_show_a_local_path_by_its_last_part_and_leave_names_and_hub_ids_alone(tmp_path):
    from workbench.config import short_name

    (tmp_path / "smollm2" / "hf").mkdir(parents=True)
    assert short_name(str(tmp_path / "smollm2" / "hf")) == "hf"
    assert short_name("../shared/data/e2e/devset.csv") == "devset.csv"
    assert short_name("~/models/smollm2/") == "smollm2"
    assert [short_name(n) for n in ("tiny-demo", "smollm2-135m", "Qwen/Qwen2.5-0.5B", "toy-e2e")] == [
        "tiny-demo", "smollm2-135m", "Qwen/Qwen2.5-0.5B", "toy-e2e"]  # fmt: skip


def test_evaluation_cadence_fits_short_runs_as_the_warmup_does():
    from workbench.config import TrainSettings

    assert [TrainSettings(steps=n).eval_interval() for n in (1, 3, 12, 15, 99, 100, 5000)] == [1, 2, 6, 8, 50, 50, 50]
    assert TrainSettings(steps=12).first_eval() == 6 and TrainSettings(steps=12).first_eval(after=7) == 12
    assert TrainSettings(steps=12, eval_every=0).first_eval() == 12  # only the final evaluation
    assert TrainSettings(steps=10, eval_every=50).first_eval() == 10  # an interval past the end: the end
    assert [s for s in range(1, 13) if TrainSettings(steps=12).evaluates_at(s)] == [6, 12]
    assert [s for s in range(1, 13) if TrainSettings(steps=12, eval_every=0).evaluates_at(s)] == [12]
    cfg = RunConfig()
    assert cfg.train.eval_every is None and RunConfig.from_json(cfg.to_json()) == cfg


def test_a_local_model_or_data_path_is_kept_absolute_and_names_are_left_alone(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    (tmp_path / "rows.csv").write_text("source,target\na,b\n")
    (tmp_path / "tiny-demo").mkdir()  # a folder named like a built-in does not shadow it
    monkeypatch.chdir(tmp_path)
    cfg = RunConfig()
    cfg.model.name, cfg.data.name, cfg.data.validation = "./mine", "rows.csv", "rows.csv"
    cfg.validate()
    assert (cfg.model.name, cfg.data.name, cfg.data.validation) == (str(tmp_path / "mine"),) + 2 * (
        str(tmp_path / "rows.csv"),)  # fmt: skip
    for model, data in (("tiny-demo", "toy-e2e"), ("Qwen/Qwen2.5-0.5B", "e2e_nlg"), ("./gone", "gone.csv")):
        cfg.model.name, cfg.data.name = model, data
        assert (cfg.validate().model.name, cfg.data.name) == (model, data)  # a missing path is said where it loads
