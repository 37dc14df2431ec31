import json
import re
import subprocess
import sys
import textwrap

import pytest
import torch

from workbench import Run
from workbench.errors import ExportError, WriteError
from workbench.model_card import model_card
from workbench.models import builtin_path

PLAIN_PEFT = textwrap.dedent(
    """
    import json, sys
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    adapter, prompt, base = sys.argv[1], sys.argv[2], sys.argv[3]  # base: the built-in's folder (or a hub id)
    cfg = PeftConfig.from_pretrained(adapter)
    assert cfg.base_model_name_or_path == "tiny-demo"  # a name that travels, not a path of this machine
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter).eval()
    tok = AutoTokenizer.from_pretrained(adapter)
    enc = tok(prompt + " ->", return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[0].tolist()
        out = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    print(json.dumps({"logits": logits, "text": tok.decode(out[0, enc.input_ids.shape[1]:], skip_special_tokens=True),
                      "workbench_imported": "workbench" in sys.modules}))
    """
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from workbench import RunConfig

    cfg = RunConfig()
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.prefix.length = 128, 16, 6
    cfg.train.steps, cfg.train.lr, cfg.train.eval_every, cfg.train.eval_generate = 25, 0.3, 0, 4
    run = Run.create(cfg)
    run.train()
    path = run.export(tmp_path_factory.mktemp("runs") / "demo")
    return run, path


def test_run_directory_layout_and_contents(trained):
    run, path = trained
    assert sorted(p.name for p in path.iterdir()) == ["README.md", "adapter", "run.json"]
    assert (path / "adapter" / "adapter_model.safetensors").is_file()
    assert (path / "adapter" / "tokenizer.json").is_file()
    info = json.loads((path / "run.json").read_text())
    assert info["config"] == run.config.to_dict()
    assert len(info["history"]["steps"]) == 25 and info["metrics"]["step"] == 25
    assert {"torch", "transformers", "peft"} <= info["versions"].keys()
    assert "PeftModel.from_pretrained" in (path / "README.md").read_text()


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_plain_peft_reload_gives_identical_logits_and_generation(trained):
    run, path = trained
    prompt = "name[Aromi] food[Italian] area[riverside]"
    base = str(builtin_path("tiny-demo"))
    result = subprocess.run([sys.executable, "-c", PLAIN_PEFT, str(path / "adapter"), prompt, base],
                            capture_output=True, text=True, check=True, timeout=300)  # fmt: skip
    plain = json.loads(result.stdout.strip().splitlines()[-1])
    assert not plain["workbench_imported"]
    enc = run.tokenizer(prompt + " ->", return_tensors="pt")
    with torch.no_grad():
        ours = run.trainer.unwrapped(**enc).logits[0]
    torch.testing.assert_close(torch.tensor(plain["logits"]), ours, rtol=0, atol=1e-5)
    assert plain["text"] == run.generate([prompt], max_new_tokens=12)[0]


def test_imported_run_reproduces_greedy_generations(trained):
    run, path = trained
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi] eatType[pub] area[city centre]"]
    again = Run.load(path)
    assert again.generate(prompts) == run.generate(prompts)
    assert again.history.last_step == 25


def test_existing_directory_is_never_overwritten_silently(trained, tmp_path):
    run, _ = trained
    target = tmp_path / "keep"
    target.mkdir()
    (target / "precious.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        run.export(target)
    assert (target / "precious.txt").read_text() == "mine"
    run.export(target, overwrite=True)
    assert not (target / "precious.txt").exists() and (target / "run.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]  # no temporary leftovers


def test_broken_run_directories_are_refused(trained, tmp_path):
    _, path = trained
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(path, broken)
    weights = broken / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(ExportError, match="unreadable"):
        Run.load(broken)
    (broken / "run.json").unlink()
    with pytest.raises(ExportError, match=r"run\.json is missing"):
        Run.load(broken)
    with pytest.raises(ExportError, match="does not exist"):
        Run.load(tmp_path / "nothing")


def test_invalid_run_json_is_one_line_and_a_failed_export_leaves_nothing(trained, tmp_path, monkeypatch):
    import shutil

    _, path = trained
    broken = tmp_path / "broken"
    shutil.copytree(path, broken)
    (broken / "run.json").write_text('{"config": ', encoding="utf-8")
    with pytest.raises(ExportError, match=r"run\.json in .* is not valid JSON") as info:
        Run.load(broken)
    assert "\n" not in str(info.value)
    shutil.copy(path / "run.json", broken / "run.json")
    (broken / "adapter" / "adapter_config.json").write_text("[]", encoding="utf-8")  # was a traceback
    with pytest.raises(ExportError, match=r"adapter_config\.json in .* must be a JSON object"):
        Run.load(broken)

    run, _ = trained
    import workbench.rundir as rundir

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rundir, "model_card", fail)  # fails after the adapter and run.json are written
    with pytest.raises(WriteError, match=r"could not write .*out.*: no space left on device"):
        run.export(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]  # no half-written run, no temporary folder


def test_a_base_with_other_weights_is_refused_by_its_fingerprint(trained, tmp_path):
    import shutil

    _, path = trained
    info = json.loads((path / "run.json").read_text())
    assert info["base_model"] == "tiny-demo" and info["base_fingerprint"].startswith("sha256:")
    assert Run.load(path).info()["base_fingerprint"] == info["base_fingerprint"]  # the same weights, the same print
    other = tmp_path / "other"
    shutil.copytree(path, other)
    info["base_fingerprint"] = "sha256:" + "0" * 64  # as if trained on another revision of the base
    (other / "run.json").write_text(json.dumps(info))
    with pytest.raises(ExportError, match="trained on other weights than the 'tiny-demo' loaded here") as err:
        Run.load(other)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("model", "dataset"), [("tiny-bert", "toy-sentiment"), ("tiny-roberta", "toy-ner")])
def test_a_reloaded_encoder_run_gives_the_same_logits(make_config, tmp_path, model, dataset):
    # Its head is in the adapter; weights the base checkpoint lacked (BERT's pooler) are drawn the same each load.
    run = Run.create(make_config(model, dataset, train={"steps": 5}))
    run.train()
    path = run.export(tmp_path / "enc")
    again = Run.load(path)
    batch = run.objective.probe_batch(run.tokenizer, run.data.preview(3), "")[0]
    with torch.no_grad():
        ours, theirs = run.live_model.eval()(**batch).logits, again.model(**batch).logits
    torch.testing.assert_close(theirs, ours, rtol=0, atol=1e-6)


def test_a_packaged_base_is_named_by_its_hub_id_and_the_gguf_weights_it_learned_on_are_told(
    packaged_model, make_config, tmp_path
):
    import re

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    folder, record = packaged_model
    run = Run.create(make_config("tiny-packaged", train={"steps": 3}))
    run.train()
    path = run.export(tmp_path / "run")
    adapter = json.loads((path / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "example/tiny-packaged"  # what plain transformers can load
    info = json.loads((path / "run.json").read_text())
    assert info["base_model"] == "tiny-packaged" and info["base_weights"] == record
    card = (path / "README.md").read_text()
    assert "`tiny-packaged`: the dequantized Q4_1 weights of `tiny.Q4_1.gguf`" in card
    assert info["base_fingerprint"] in card and "The adapter names `example/tiny-packaged`" in card
    assert "## Licence of the base model\n\n`tiny-packaged`'s licence: MIT (https://mit.example)." in card
    # The workbench loads it back from the fetched copy, offline; so does the card's offline route, in plain PEFT.
    again = Run.load(path)
    assert again.loaded.path == str(folder) and again.info()["base_weights"] == record
    offline = re.findall(r"```python\n(.*?)```", card, re.S)[1]
    scope = {"AutoModelForCausalLM": AutoModelForCausalLM}
    exec(offline, scope)
    plain = PeftModel.from_pretrained(scope["base"], path / "adapter").eval()
    batch = run.tokenizer(["name[Aromi] food[Italian] ->"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(plain(**batch).logits, run.live_model.eval()(**batch).logits)


def test_a_base_not_made_from_a_gguf_file_says_no_weights_of_one(trained):
    _, path = trained
    assert json.loads((path / "run.json").read_text())["base_weights"] is None
    assert "dequantized" not in (path / "README.md").read_text()


def test_the_cards_plain_peft_lines_load_a_head_of_the_runs_size(make_config, tmp_path, monkeypatch):
    import user_files

    rows = [{"text": f"the food was {w}", "label": label} for w, label in
            (("great", "good"), ("awful", "bad"), ("fine", "okay")) for _ in range(10)]  # fmt: skip
    run = Run.create(make_config("tiny-bert", str(user_files.write(tmp_path / "three.csv", rows)), train={"steps": 4}))
    run.train()
    path = run.export(tmp_path / "run")
    card = (path / "README.md").read_text()
    assert "num_labels=3" in card and "Decoder prompts" not in card
    monkeypatch.chdir(path)  # the card's lines name the adapter folder beside it
    assert "torch.manual_seed(0)" in card  # tiny-bert's checkpoint has no pooler: drawn as the workbench draws it
    torch.manual_seed(0)
    scope: dict = {}
    exec(re.findall(r"```python\n(.*?)```", card, re.S)[0], scope)
    batch = run.tokenizer(["the food was great"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(scope["model"](**batch).logits, run.live_model.eval()(**batch).logits)


def test_a_decoder_trained_on_tagged_words_says_how_it_writes_them_and_reloads_scoring_the_same(make_config, tmp_path):
    run = Run.create(make_config("tiny-gpt2", "toy-ner", train={"steps": 3, "eval_generate": 4}))
    run.train()
    path = run.export(tmp_path / "run")
    assert "`words (type); …`, or `none`" in (path / "README.md").read_text()
    again = Run.load(path)
    assert again.data.entity_types == ["name", "food", "area"] == run.data.entity_types
    assert again.evaluate().metrics == run.evaluate().metrics
    per_word = Run.create(make_config("tiny-gpt2", "toy-ner", data={"tag_text": "tags"}, train={"steps": 3}))
    assert "`none`" not in model_card(per_word.record())


def test_a_run_from_a_relative_model_folder_and_data_file_reloads_from_another_folder(tmp_path, monkeypatch):
    import shutil

    from workbench import RunConfig

    work = tmp_path / "work"
    shutil.copytree(builtin_path("tiny-gpt2"), work / "my-model")
    (work / "rows.csv").write_text("source,target\n" + "".join(f"name[R{i}],R{i} is here.\n" for i in range(40)))
    monkeypatch.chdir(work)
    cfg = RunConfig()
    cfg.model.name, cfg.data.name = "./my-model", "rows.csv"
    cfg.train.steps, cfg.train.eval_generate, cfg.train.max_new_tokens = 2, 2, 4
    run = Run.create(cfg)
    run.train()
    path = run.export(tmp_path / "run", checkpoint=True)
    monkeypatch.chdir(tmp_path)  # elsewhere: the run still names its base and its data
    again = Run.resume(path, steps=3)
    assert again.generate(["name[R1]"], max_new_tokens=4) == run.generate(["name[R1]"], max_new_tokens=4)
    again.train()
    adapter = json.loads((path / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(work / "my-model")


def test_a_gguf_files_card_loads_it_through_transformers_gguf_file(trained):
    import dataclasses
    from pathlib import Path

    from workbench.model_card import model_card
    from workbench.rundir import read_run_record

    weights = {"file": "SmolLM2.Q4_1.gguf", "sha256": "cd" * 32, "quantization": "Q4_1"}
    record = dataclasses.replace(read_run_record(trained[1]), base_model="./SmolLM2.Q4_1.gguf", base_weights=weights)
    card = model_card(record)
    loads = []

    class Stand:  # PeftConfig and the auto class: what the card's lines ask of them
        base_model_name_or_path = "/models/SmolLM2.Q4_1.gguf"  # the adapter names the file's absolute path

        @staticmethod
        def from_pretrained(*args, **kwargs):
            loads.append((args, kwargs))
            return Stand

    lines = re.findall(r"```python\n(.*?)```", card, re.S)[0].splitlines()
    code = "\n".join(line for line in lines if not line.startswith(("from peft", "from transformers", "model =")))
    exec(code, {"PeftConfig": Stand, "AutoModelForCausalLM": Stand, "AutoTokenizer": Stand})
    assert loads[1] == ((Path("/models"),), {"gguf_file": "SmolLM2.Q4_1.gguf"})
    assert "is a GGUF file: transformers reads it itself" in card and "(sha256 cdcdcdcdcdcdcdcd…)" in card
