"""One encoding of NaN and infinity in every JSON file the workbench writes, read back the same way."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from workbench import Run
from workbench.errors import ConfigError
from workbench.jsonio import dumps, from_json, read_object, to_json


def _strict(text: str):
    """JSON as any strict reader parses it: a bare NaN or Infinity fails."""
    return json.loads(text, parse_constant=lambda constant: pytest.fail(f"{constant} is not JSON"))


def test_non_finite_numbers_become_strings_and_come_back_as_floats():
    value = {"loss": float("nan"), "best": [1.0, float("inf"), {"low": -math.inf}], "n": np.float32(2.5),
             "share": np.array([0.25, 0.75]), "label": "nan-free text"}  # fmt: skip
    written = _strict(dumps(value))
    assert written["loss"] == "nan" and written["best"][1:] == ["inf", {"low": "-inf"}]
    assert written["n"] == 2.5 and written["share"] == [0.25, 0.75]
    back = from_json(written)
    assert math.isnan(back["loss"]) and back["best"][1] == math.inf and back["best"][2]["low"] == -math.inf
    assert back["label"] == "nan-free text" and to_json(back)["loss"] == "nan"


def test_run_json_holds_strict_json_and_a_reloaded_history_has_its_nan_back(make_config, tmp_path):
    run = Run.create(make_config(train={"steps": 3}))
    run.train()
    run.history.evals[-1].metrics["bleu"] = float("nan")  # as a metric with nothing to score reads
    run.history.evals[-1].samples[0]["output"] = "nan"  # a generated word stays a word
    out = run.export(tmp_path / "run")
    info = _strict((out / "run.json").read_text())
    assert info["metrics"]["bleu"] == "nan" and info["history"]["evals"][-1]["metrics"]["bleu"] == "nan"
    again = Run.load(out)
    assert math.isnan(again.history.evals[-1].metrics["bleu"])
    assert again.history.evals[-1].samples[0]["output"] == "nan"


@pytest.mark.parametrize(("text", "says"), [
    (None, "does not exist"), (b'{"a": ', "is not valid JSON: Expecting value"),
    (b"\xff\xfe{}", "is not valid JSON: 'utf-8' codec"), (b"[1]", "must be a JSON object .*not a JSON list"),
])  # fmt: skip
def test_every_json_file_is_read_one_way_and_a_bad_one_is_named_in_one_line(tmp_path, text, says):
    path = tmp_path / "x.json"
    if text is not None:
        path.write_bytes(text)
    with pytest.raises(ConfigError, match=f"^the file x {says}") as info:
        read_object(path, ConfigError, "the file x")
    assert "\n" not in str(info.value)
    path.write_text('{"loss": "nan"}', encoding="utf-8")
    assert read_object(path, ConfigError, "x") == {"loss": "nan"}  # numbers are the reader's to decode
