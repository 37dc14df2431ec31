"""SmolLM2-135M-Instruct on chat data: its own template in training, and plain transformers reproduce the run."""

from __future__ import annotations

import json

import chat_files
import user_files
from test_chat import plain_chat_reply

from workbench import Run, RunConfig
from workbench.models.fetch import fetched_path


def test_a_chat_run_on_smollm2_uses_its_template_and_plain_transformers_reproduce_it(smollm2, tmp_path):
    cfg = RunConfig()
    cfg.model.name, cfg.data.name = smollm2, str(user_files.write(tmp_path / "chat.jsonl", chat_files.messages(24)))
    cfg.data.max_eval_examples, cfg.train.batch_size, cfg.train.steps = 4, 4, 3
    cfg.train.eval_every, cfg.train.eval_generate, cfg.train.max_new_tokens = 0, 2, 12
    run = Run.create(cfg)
    assert any("own chat template" in f.message for f in run.findings)
    run.train()
    path = run.export(tmp_path / "run")
    info = json.loads((path / "run.json").read_text())
    assert info["chat_template"]["template"] == "own"
    assert info["chat_template"]["example"].startswith("<|im_start|>system\ndescribe the restaurant<|im_end|>")
    turns = [{"role": "system", "content": "describe the restaurant"}, {"role": "user", "content": "name[Aromi]"}]
    plain = plain_chat_reply(path / "adapter", fetched_path(smollm2), turns)
    assert not plain["workbench_imported"] and plain["text"]
    assert plain["text"] == Run.load(path).generate([turns], max_new_tokens=12)[0]
