"""The settings widgets of the panel, bound both ways to a :class:`RunConfig`.

:class:`Controls` shows the knobs people turn (model, dataset, prefix length,
projection and its hidden size, init, learning rate, steps, batch size, seed) and
turns them into a validated :class:`RunConfig` on demand; settings without a widget
(evaluation cadence, device, …) are carried over from the config it started with.
:func:`code_for` writes the same settings as a headless Python cell and CLI line
("copy as code"). Widgets here only edit values: nothing loads or trains.
"""

from __future__ import annotations

import copy
import pprint
import shlex
from collections.abc import Callable

import ipywidgets as w

from ..config import DataChoice, PrefixSettings, RunConfig, TrainSettings, field_choices, field_range, parse_columns
from ..config_flags import cli_args
from ..data import BUILTIN_DATASETS, CURATED_DATASETS
from ..data.held import MEMORY_PREFIX, is_held_name
from ..models import BUILTIN_MODELS, CURATED_MODELS, PACKAGED_MODELS
from ..tracking import TRACKERS, check_trackers
from .namespace import data_name, notebook_data, shown_name

__all__ = ["Controls", "code_for"]

_STYLE = {"description_width": "96px"}
_PREFIX_SLIDER_MAX = 200  # the slider's reach; longer prefixes are a config away


def _wide() -> w.Layout:
    # One Layout per widget: a shared one would hide all of them when one is hidden. "auto", not 100%: a
    # column stretches its children to its own width, margins included, where 100% plus margins overflows.
    return w.Layout(width="auto")


class Controls:
    """Settings widgets; ``config()`` reads them, ``set_config()`` writes them."""

    def __init__(self, config: RunConfig | None = None) -> None:
        if config is not None and not all(isinstance(n, str) for n in [config.data.name, *config.data.mix]):
            config.validate()  # data given as an object is held in memory under a name, which a config carries
        self._base = copy.deepcopy(config or RunConfig())
        c = self._base
        self.model = w.Combobox(
            value=c.model.name, options=[*BUILTIN_MODELS, *PACKAGED_MODELS, *CURATED_MODELS], ensure_option=False,
            description="model", placeholder="built-in, hub id or local path", continuous_update=False,
            layout=_wide(), style=_STYLE,
        )  # fmt: skip
        self.dataset = w.Combobox(
            value=shown_name(c.data.name), options=[*notebook_data(), *BUILTIN_DATASETS, *CURATED_DATASETS],
            ensure_option=False, description="dataset",
            placeholder="a DataFrame's name, built-in, hub id, file or save_to_disk folder",
            continuous_update=False, layout=_wide(), style=_STYLE,
        )  # fmt: skip
        self.columns = w.Text(
            value=_columns_text(c.data.columns), description="columns", continuous_update=False,
            placeholder="role=column, … e.g. text=review, label=stars", layout=_wide(), style=_STYLE,
        )  # fmt: skip
        self.kind = w.Dropdown(options=list(field_choices(DataChoice, "kind")), value=c.data.kind,
                               description="data kind", layout=_wide(), style=_STYLE)  # fmt: skip
        # A Dropdown shows nothing for a None value: the default gets a label of its own.
        metrics = field_choices(DataChoice, "metric")
        self.metric = w.Dropdown(options=[("(the data's default)", ""), *((m, m) for m in metrics)],
                                 value=c.data.metric or "", description="metric", layout=_wide(),
                                 style=_STYLE)  # fmt: skip
        self.prefix_length = w.IntSlider(
            value=c.prefix.length, min=_bounds(PrefixSettings, "length")["min"], max=_PREFIX_SLIDER_MAX,
            description="prefix length", continuous_update=False, layout=_wide(), style=_STYLE,
        )  # fmt: skip
        self.projection = w.Checkbox(value=c.prefix.projection, description="projection (MLP)", indent=False)
        self.hidden_size = w.BoundedIntText(
            value=c.prefix.hidden_size, **_bounds(PrefixSettings, "hidden_size"), description="hidden",
            style={"description_width": "48px"}, layout=w.Layout(width="150px"),
        )  # fmt: skip
        self.init = w.Dropdown(options=list(field_choices(PrefixSettings, "init")), value=c.prefix.init,
                               description="init", layout=_wide(), style=_STYLE)  # fmt: skip
        self.init_text = w.Text(value=c.prefix.init_text, description="init text", placeholder="e.g. describe :",
                                layout=_wide(), style=_STYLE)  # fmt: skip
        self.lr = w.FloatLogSlider(
            value=c.train.lr, base=10, min=-5, max=0.5, step=0.05, description="learning rate",
            readout_format=".1e", continuous_update=False, layout=_wide(), style=_STYLE,
        )  # fmt: skip
        self.steps = w.BoundedIntText(value=c.train.steps, **_bounds(TrainSettings, "steps"), description="steps",
                                      layout=_wide(), style=_STYLE)  # fmt: skip
        self.batch_size = w.BoundedIntText(value=c.train.batch_size, **_bounds(TrainSettings, "batch_size"),
                                           description="batch size", layout=_wide(), style=_STYLE)  # fmt: skip
        self.seed = w.BoundedIntText(value=c.train.seed, **_bounds(TrainSettings, "seed"), description="seed",
                                     layout=_wide(), style=_STYLE)  # fmt: skip
        self.report_to = w.SelectMultiple(options=list(TRACKERS), value=tuple(c.train.report_to), rows=len(TRACKERS),
                                          description="report to", layout=_wide(), style=_STYLE)  # fmt: skip
        # A column mapping belongs to the dataset it was written for.
        self.dataset.observe(lambda _c: setattr(self.columns, "value", ""), names="value")
        self.init.observe(self._show_init_text, names="value")
        self.projection.observe(self._show_hidden, names="value")
        self._show_init_text()
        self._show_hidden()
        self.box = w.VBox(
            [
                self.model, self.dataset, self.columns, self.kind, self.metric, self.prefix_length,
                w.HBox([self.projection, self.hidden_size], layout=w.Layout(justify_content="space-between")),
                self.init, self.init_text, self.lr, self.steps, self.batch_size, self.seed, self.report_to,
            ],
            layout=w.Layout(width="auto"),
        )  # fmt: skip

    @property
    def widgets(self) -> list[w.ValueWidget]:
        return [self.model, self.dataset, self.columns, self.kind, self.metric, self.prefix_length, self.projection,
                self.hidden_size, self.init, self.init_text, self.lr, self.steps, self.batch_size,
                self.seed, self.report_to]  # fmt: skip

    def observe(self, callback: Callable[[dict], None], which: str = "all") -> None:
        """Call ``callback(change)`` when a setting changes (``which``: all, model-data or prefix)."""
        groups = {
            "model-data": [self.model, self.dataset, self.columns, self.kind, self.metric],
            "prefix": [self.prefix_length, self.projection, self.hidden_size, self.init, self.init_text],
            "all": self.widgets,
        }
        for widget in groups[which]:
            widget.observe(callback, names="value")

    def config(self) -> RunConfig:
        """The current settings as a validated RunConfig (raises ConfigError with the allowed range)."""
        cfg = copy.deepcopy(self._base)
        cfg.model.name = self.model.value.strip()
        cfg.data.name = data_name(self.dataset.value)
        cfg.data.columns = parse_columns(self.columns.value.split(","), where="columns")
        cfg.data.kind, cfg.data.metric = self.kind.value, self.metric.value or None
        cfg.prefix.length = int(self.prefix_length.value)
        cfg.prefix.projection = bool(self.projection.value)
        cfg.prefix.hidden_size = int(self.hidden_size.value)
        cfg.prefix.init = self.init.value
        cfg.prefix.init_text = self.init_text.value
        cfg.train.lr = float(f"{self.lr.value:.3g}")
        cfg.train.steps = int(self.steps.value)
        cfg.train.batch_size = int(self.batch_size.value)
        cfg.train.seed = int(self.seed.value)
        cfg.train.report_to = list(self.report_to.value)
        if cfg.train.report_to:
            check_trackers(cfg.train.report_to)  # not installed: said under the settings, before Train
        return cfg.validate()

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in the widgets (and keep its other settings for the next run)."""
        self._base = copy.deepcopy(config)
        c = config
        self.model.value, self.dataset.value = c.model.name, shown_name(c.data.name)
        self.columns.value = _columns_text(c.data.columns)
        self.kind.value, self.metric.value = c.data.kind, c.data.metric or ""
        self.prefix_length.max = max(_PREFIX_SLIDER_MAX, c.prefix.length)
        self.prefix_length.value = c.prefix.length
        self.projection.value, self.hidden_size.value = c.prefix.projection, c.prefix.hidden_size
        self.init.value, self.init_text.value = c.prefix.init, c.prefix.init_text
        self.lr.value, self.steps.value = c.train.lr, c.train.steps
        self.batch_size.value, self.seed.value = c.train.batch_size, c.train.seed
        self.report_to.value = tuple(c.train.report_to)

    def _show_init_text(self, _change: object = None) -> None:
        self.init_text.layout.display = None if self.init.value == "text" else "none"

    def _show_hidden(self, _change: object = None) -> None:
        self.hidden_size.disabled = not self.projection.value


def _bounds(section: type, name: str) -> dict[str, int]:
    """A whole-number setting's allowed range (config.py), as a widget's min and max."""
    lo, hi = field_range(section, name)  # type: ignore[misc]
    return {"min": int(lo), "max": int(hi)}


def _columns_text(columns: dict[str, str]) -> str:
    return ", ".join(f"{role}={column}" for role, column in columns.items())


def code_for(config: RunConfig, out: str = "runs/my-prefix") -> str:
    """A Python cell and a CLI line that recreate ``config`` headless."""
    defaults = RunConfig().to_dict()
    changed = {
        section: {k: v for k, v in values.items() if defaults[section].get(k) != v}
        for section, values in config.to_dict().items()
    }
    changed = {k: v for k, v in changed.items() if v}
    dataset, data_line = config.data.name, ""
    if is_held_name(dataset):  # in memory: the cell names the variable again, the CLI needs a file
        variable = dataset.removeprefix(MEMORY_PREFIX)
        if variable.isidentifier():
            changed["data"].pop("name")
            changed = {k: v for k, v in changed.items() if v}
            data_line = f"config.data.name = {variable}  # held in memory, as in the panel\n"
        dataset = f"{variable}.parquet"
        data_line += (f"# the CLI reads files: save the data first, e.g. {variable}.to_parquet({dataset!r}) for a "
                      f"DataFrame, {variable}.save_to_disk(...) for a Dataset\n")  # fmt: skip
    flags, unflagged = cli_args(config)
    if dataset != config.data.name:
        flags[flags.index("--dataset") + 1] = dataset
    cli = ["prefix-workbench", "train", *flags, "--out", out]
    if unflagged:  # settings no flag carries travel in a config file
        cli += ["--config", "config.json"]
        data_line += (f"# the CLI line reads {', '.join(unflagged)} from a file: "
                      "open('config.json', 'w').write(config.to_json())\n")  # fmt: skip
    return (
        "import workbench as wb\n\n"
        f"config = wb.RunConfig.from_dict({pprint.pformat(changed, sort_dicts=False, width=100)})\n"
        f"{data_line}"
        "run = wb.Run.create(config)\n"
        "run.train()\n"
        f"run.export({out!r})\n\n"
        f"# or in a terminal:\n# {shlex.join(cli)}\n"
    )
