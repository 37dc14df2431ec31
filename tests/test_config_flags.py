"""The flags are made from the settings: every described setting has its flag, help, choices and range,
the flags and "copy as code" are inverses, and the panel's widgets take their bounds from the same place."""

from __future__ import annotations

from dataclasses import fields

import pytest

from workbench import RunConfig
from workbench.cli import build_parser
from workbench.config_flags import FLAGS, cli_args, config_from_args


def _train_options() -> dict:
    train = build_parser()._subparsers._group_actions[0].choices["train"]  # argparse keeps its subcommands there
    return {option: action for action in train._actions for option in action.option_strings}


def test_every_described_setting_has_its_flag_with_its_help_choices_and_range():
    options, cfg = _train_options(), RunConfig()
    described = {(s, f.name): f for s in ("model", "data", "prefix", "train") for f in fields(getattr(cfg, s))
                 if "flag" in f.metadata}  # fmt: skip
    assert set(described) == set(FLAGS) and len(FLAGS) >= 30
    for key, f in described.items():
        action = options[f.metadata["flag"]]
        assert f.metadata["help"] in action.help.replace("%%", "%"), key
        if "choices" in f.metadata and not isinstance(f.default, bool):
            assert tuple(action.choices) == f.metadata["choices"], key
        if "range" in f.metadata:
            hi = f.metadata["range"][1]
            assert f"{hi:,.0f}" in action.help or f"{hi:g}" in action.help, (key, action.help)
    assert "--no-projection" in options and "--no-group-by-length" in options  # yes/no settings both ways
    assert tuple(options["--label-choice"].choices) == ("ranking", "generation")


@pytest.mark.parametrize(("argv", "needle"), [
    (["--batch-size", "0"], "TrainSettings.batch_size is 0; allowed range is [1, 65536]"),
    (["--device", "tpu"], "invalid choice: 'tpu'"),
    (["--steps", "ten"], "invalid int value: 'ten'"),
])  # fmt: skip
def test_a_flag_outside_its_setting_says_what_is_allowed(argv, needle, capsys):
    from workbench.cli import main

    assert main(["train", *argv]) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert needle in said[-1] and "Traceback" not in "".join(said)


def test_the_panels_widgets_take_their_bounds_and_choices_from_the_settings():
    from workbench.config import DataChoice, PrefixSettings, TrainSettings, field_choices, field_range
    from workbench.ui.controls import Controls

    controls = Controls()
    for widget, (section, name) in [(controls.batch_size, (TrainSettings, "batch_size")),
                                    (controls.steps, (TrainSettings, "steps")),
                                    (controls.seed, (TrainSettings, "seed")),
                                    (controls.hidden_size, (PrefixSettings, "hidden_size"))]:  # fmt: skip
        assert (widget.min, widget.max) == tuple(int(x) for x in field_range(section, name)), name
    assert controls.prefix_length.min == field_range(PrefixSettings, "length")[0]
    assert tuple(controls.kind.options) == field_choices(DataChoice, "kind")
    assert tuple(controls.init.options) == field_choices(PrefixSettings, "init")
    assert [value for _label, value in controls.metric.options][1:] == list(field_choices(DataChoice, "metric"))


def test_the_cli_line_of_a_config_reads_back_as_the_same_config():
    """cli_args (what "copy as code" writes) and config_from_args are inverses, for every flagged setting."""
    cfg = RunConfig()
    cfg.model.name, cfg.model.trust_remote_code = "tiny-llama", True
    cfg.data.name, cfg.data.mix, cfg.data.columns = "toy-e2e", ["toy-sentiment"], {"source": "mr", "target": "ref"}
    cfg.data.sampling, cfg.data.mark_tasks, cfg.data.subset = "balanced", True, "plain"
    cfg.data.max_length, cfg.data.max_train_records, cfg.data.max_eval_examples = 96, 40, 64
    cfg.data.test_fraction, cfg.data.kind, cfg.data.metric = 0.2, "text", "task_mean"
    cfg.prefix.length, cfg.prefix.projection, cfg.prefix.hidden_size = 7, True, 64
    cfg.prefix.init, cfg.prefix.init_text = "text", "describe the record :"
    cfg.train.steps, cfg.train.lr, cfg.train.batch_size, cfg.train.grad_accum = 33, 0.0125, 4, 2
    cfg.train.warmup_steps, cfg.train.eval_every, cfg.train.eval_generate = 3, 11, 5
    cfg.train.max_new_tokens, cfg.train.seed, cfg.train.precision = 20, 7, "fp32"
    cfg.train.checkpoint_every, cfg.train.report_to, cfg.train.tracking_dir = 10, ["tensorboard"], "runs/tb"
    flags, unflagged = cli_args(cfg)
    assert unflagged == [] and {f for f in FLAGS.values() if f in flags} >= {"--max-length", "--eval-every"}
    again = config_from_args(build_parser().parse_args(["train", *flags]))
    assert again == cfg
    cfg.train.weight_decay = 0.1  # no flag: said, for --config
    assert cli_args(cfg)[1] == ["train.weight_decay"]


@pytest.mark.parametrize("init", ["matched", "example", "zero"])
def test_every_start_without_words_reads_back_through_its_flag(init):
    cfg = RunConfig()
    cfg.prefix.init = init
    flags, _ = cli_args(cfg)
    assert flags[flags.index("--init") + 1] == init
    assert config_from_args(build_parser().parse_args(["train", *flags])).prefix.init == init


def test_a_start_that_does_not_exist_names_every_one_that_does():
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match='use auto, random, zero, matched, example or text:"some words"'):
        config_from_args(build_parser().parse_args(["train", "--init", "matchd"]))
