"""Chat data through the chat template: every reply learned, the last one generated, the template exported."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import chat_files
import pytest
import user_files
from transformers import AutoTokenizer

from workbench import Run
from workbench.data.chat_template import PLAIN_TEMPLATE, chat_format
from workbench.data.encode import IGNORE
from workbench.errors import DataError
from workbench.models import builtin_path
from workbench.models.objectives import OBJECTIVES

CONVERSATION = chat_files.messages(1)[0]["messages"]  # system, user, assistant, user, assistant


def _learned(tokenizer, messages) -> list[str]:
    """The learned stretches of one encoded conversation, decoded."""
    chat = chat_format(tokenizer)
    row = chat.segments(tokenizer, messages)
    from workbench.data.encode import encode_segments

    feat = encode_segments([row], tokenizer, 512, add_special_tokens=chat.add_special_tokens).features[0]
    runs, current = [], []
    for token, label in zip(feat["input_ids"], feat["labels"]):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    return [*runs, tokenizer.decode(current)] if current else runs


def test_every_reply_is_learned_with_its_end_of_turn_and_nothing_else(smollm2):
    from workbench.models.fetch import fetched_path

    own = AutoTokenizer.from_pretrained(fetched_path(smollm2))  # SmolLM2's ChatML template (<|im_start|> …)
    assert chat_format(own).own
    replies = [t["content"] for t in CONVERSATION if t["role"] == "assistant"]
    assert _learned(own, CONVERSATION) == [f"{r}<|im_end|>" for r in replies]  # both turns, the end of turn too
    plain = AutoTokenizer.from_pretrained(builtin_path("tiny-gpt2"))  # no template: role: text lines
    assert not chat_format(plain).own and chat_format(plain).template == PLAIN_TEMPLATE
    assert _learned(plain, CONVERSATION) == [f"{r} </s>" for r in replies]


def test_a_template_that_refuses_a_conversation_says_so_in_one_line():
    tokenizer = AutoTokenizer.from_pretrained(builtin_path("tiny-gpt2"))
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('no system') }}{% endif %}{{ m['content'] }}{% endfor %}"
    )
    with pytest.raises(DataError, match=r"chat template refused a conversation \(no system") as err:
        chat_format(tokenizer).segments(tokenizer, CONVERSATION)
    assert "\n" not in str(err.value)


@pytest.fixture(scope="module")
def chat_run(tmp_path_factory):
    from workbench import RunConfig

    folder = tmp_path_factory.mktemp("chat")
    cfg = RunConfig()
    cfg.model.name, cfg.data.name = "tiny-gpt2", str(user_files.write(folder / "chat.jsonl", chat_files.messages(60)))
    cfg.prefix.length, cfg.train.steps, cfg.train.lr, cfg.train.eval_generate = 5, 30, 0.1, 4
    run = Run.create(cfg)
    run.train()
    return run, run.export(folder / "run")


def test_a_chat_run_learns_its_replies_and_generates_the_last_one(chat_run):
    run, path = chat_run
    losses = [s.loss for s in run.history.steps]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert any("no chat template" in f.message for f in run.findings)  # tiny-gpt2: the plain template, said
    last = run.history.evals[-1]
    sample = last.samples[0]
    assert sample["input"].startswith("system: describe the restaurant\nuser: name[")  # the turns before the reply
    assert sample["reference"].startswith("It is in the ")  # the last reply is what is generated and scored
    assert next(iter(last.metrics)) == run.metric == "bleu"
    info = json.loads((path / "run.json").read_text())
    assert info["dataset_kind"] == "chat" and info["chat_template"]["template"] == "plain"
    assert info["chat_template"]["example"].startswith("system: describe the restaurant\nuser: name[")
    assert "chat template" in (path / "README.md").read_text()


def test_generate_takes_a_user_turn_or_messages_and_refuses_a_finished_conversation(chat_run):
    run, _ = chat_run
    turns = [{"role": "system", "content": "describe the restaurant"}, {"role": "user", "content": "name[Zizzi]"}]
    assert run.generate(["name[Zizzi]"], max_new_tokens=6) == run.generate([turns[1:]], max_new_tokens=6)
    assert len(run.generate([turns], max_new_tokens=6)) == 1
    with pytest.raises(DataError, match="must end with a user"):
        run.generate([[*turns, {"role": "assistant", "content": "Zizzi"}]])


PLAIN_CHAT = textwrap.dedent(
    """
    import json, sys
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    adapter, base, messages = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    tok = AutoTokenizer.from_pretrained(adapter)  # carries the template the prefix was trained with
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter).eval()
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    enc = tok(text, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    print(json.dumps({"text": tok.decode(out[0, enc.input_ids.shape[1]:], skip_special_tokens=True).strip(),
                      "workbench_imported": "workbench" in sys.modules}))
    """
)


def plain_chat_reply(adapter, base, messages) -> dict:
    """What plain transformers + PEFT reply to ``messages``, in a fresh process without the workbench."""
    result = subprocess.run([sys.executable, "-c", PLAIN_CHAT, str(adapter), str(base), json.dumps(messages)],
                            capture_output=True, text=True, check=True, timeout=300)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_plain_transformers_reproduce_a_plain_template_run(chat_run):
    run, path = chat_run
    turns = [{"role": "system", "content": "describe the restaurant"}, {"role": "user", "content": "name[Cotto]"}]
    plain = plain_chat_reply(path / "adapter", builtin_path("tiny-gpt2"), turns)
    assert not plain["workbench_imported"]
    assert plain["text"] == run.generate([turns], max_new_tokens=12)[0]


def test_serving_mixes_a_chat_prefix_with_its_own_run(chat_run):
    from workbench import load_prefix_bank

    run, path = chat_run
    turns = [{"role": "user", "content": "name[Strada] food[French]"}]
    bank = load_prefix_bank([path])
    assert bank.generate([turns], [str(path)], max_new_tokens=8) == run.generate([turns], max_new_tokens=8)


def test_language_modelling_learns_every_token_and_leads_with_perplexity(make_config, tmp_path):
    path = str(user_files.write(tmp_path / "corpus.jsonl", chat_files.plain_text(60)))
    run = Run.create(make_config(dataset=path, train={"steps": 20, "eval_every": 10}))
    feat = run.splits[0].features[0]
    assert feat["labels"] == feat["input_ids"] and feat["input_ids"][-1] == run.tokenizer.eos_token_id
    run.train()
    first, last = run.history.evals
    assert last.loss < first.loss and list(last.metrics) == ["perplexity"]
    assert last.metrics["perplexity"] == pytest.approx(math.exp(last.loss))
    assert run.generate(["Aromi serves"], max_new_tokens=3)[0]  # a text is continued as it is: no separator
    prompt = OBJECTIVES["causal-lm"].prompt(run.tokenizer, "Aromi serves", "")
    assert prompt == "Aromi serves"


@pytest.mark.parametrize("fmt", list(chat_files.FORMATS))
def test_each_format_trains_from_the_cli_with_no_mapping(fmt, tmp_path, capsys):
    from workbench.cli import main

    path = user_files.write(tmp_path / f"{fmt}.jsonl", chat_files.FORMATS[fmt](30))
    args = ["--max-eval-examples", "4", "--prefix-length", "3", "--eval-every", "0"]
    assert main(["train", "--model", "tiny-gpt2", "--dataset", str(path), "--steps", "3", *args,
                 "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["dataset_kind"] == ("lm" if fmt == "text" else "chat") and info["steps_done"] == 3
    capsys.readouterr()
    assert main(["generate", "--run", str(tmp_path / "run"), "--prompt", "name[Aromi]", "--max-new-tokens", "3"]) == 0
    assert capsys.readouterr().out.strip() == Run.load(tmp_path / "run").generate(["name[Aromi]"], max_new_tokens=3)[0]
