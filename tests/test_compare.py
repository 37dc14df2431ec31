"""The method comparison: every kind trains on the same data and reports honest sizes."""

from __future__ import annotations

import json

from workbench.cli import main
from workbench.compare import Method, compare, format_table


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


def test_cli_compare_writes_json_and_chart(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "--model", "tiny-gpt2", "--steps", "3", "--only", "prefix 1", "--out", str(out)])
    assert code == 0
    rows = json.loads((out / "compare.json").read_text())
    assert [r["method"]["label"] for r in rows] == ["prefix 1"]
    assert (out / "compare.html").is_file() and "prefix 1" in capsys.readouterr().out
    assert main(["compare", "--only", "nothing-like-this"]) == 2
