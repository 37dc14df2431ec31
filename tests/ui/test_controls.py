"""The settings widgets: values in, a validated RunConfig out, and code that recreates it."""

from __future__ import annotations

import pytest

from workbench import RunConfig
from workbench.errors import ConfigError
from workbench.ui import Controls, code_for


def test_widgets_edit_the_config_and_keep_unshown_settings():
    base = RunConfig()
    base.train.eval_every = 7
    controls = Controls(base)
    controls.model.value = "tiny-llama"
    controls.dataset.value = "toy-sentiment"
    controls.prefix_length.value = 33
    controls.projection.value = True
    controls.hidden_size.value = 64
    controls.init.value = "text"
    controls.init_text.value = "sentiment :"
    controls.lr.value = 3e-3
    controls.steps.value = 120
    controls.batch_size.value = 4
    controls.seed.value = 9
    cfg = controls.config()
    assert (cfg.model.name, cfg.data.name, cfg.prefix.length) == ("tiny-llama", "toy-sentiment", 33)
    assert cfg.prefix.projection and cfg.prefix.hidden_size == 64
    assert (cfg.prefix.init, cfg.prefix.init_text) == ("text", "sentiment :")
    assert cfg.train.lr == pytest.approx(3e-3)
    assert (cfg.train.steps, cfg.train.batch_size, cfg.train.seed) == (120, 4, 9)
    assert cfg.train.eval_every == 7  # no widget, carried over


def test_init_text_shows_only_for_text_init_and_hidden_only_with_projection():
    controls = Controls()
    assert controls.init_text.layout.display == "none" and controls.hidden_size.disabled
    controls.init.value = "text"
    controls.projection.value = True
    assert controls.init_text.layout.display is None and not controls.hidden_size.disabled
    controls.init.value = "zero"
    hidden = [c for c in controls.widgets if c.layout.display == "none"]
    assert hidden == [controls.init_text]  # and nothing else


def test_bad_settings_are_refused_with_the_allowed_range():
    controls = Controls()
    controls.init.value = "text"  # without a text
    with pytest.raises(ConfigError, match="init_text"):
        controls.config()


def test_set_config_round_trips():
    cfg = RunConfig()
    cfg.model.name, cfg.prefix.length, cfg.train.steps = "tiny-opt", 250, 77
    controls = Controls()
    controls.set_config(cfg)
    again = controls.config()
    assert (again.model.name, again.prefix.length, again.train.steps) == ("tiny-opt", 250, 77)


def test_copy_as_code_recreates_the_settings():
    cfg = RunConfig()
    cfg.model.name, cfg.prefix.length, cfg.prefix.projection, cfg.train.lr = "tiny-llama", 12, True, 0.05
    code = code_for(cfg, "runs/x")
    namespace: dict = {}
    exec(code.split("run = ")[0], namespace)  # the part that builds the config
    assert namespace["config"] == cfg
    assert "--prefix-length 12" in code and "--projection" in code and "--out runs/x" in code
    # The CLI line, run through the CLI's own parser, gives the same settings.
    import shlex

    from workbench.cli import build_parser
    from workbench.config_flags import config_from_args

    line = next(row for row in code.splitlines() if row.startswith("# prefix-workbench train"))
    assert config_from_args(build_parser().parse_args(shlex.split(line[2:])[1:])) == cfg
