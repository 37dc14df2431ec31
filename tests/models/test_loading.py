import pytest
import torch

from workbench.config import ModelChoice
from workbench.errors import CompatibilityError, ModelLoadError
from workbench.models import BUILTIN_MODELS, builtin_path, load_model
from workbench.models.objectives import resolve_objective

TINY = [n for n, spec in BUILTIN_MODELS.items() if not spec.shipped]


@pytest.mark.parametrize("name", TINY)
def test_every_builtin_is_an_ordinary_model_directory(name):
    path = builtin_path(name)
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert (path / "tokenizer.json").is_file()
    kind = "classification" if BUILTIN_MODELS[name].model_type in ("bert", "roberta") else "text"
    lm = load_model(ModelChoice(name), kind, label_names=["a", "b"])
    assert lm.tokenizer.padding_side == "right" and lm.tokenizer.pad_token_id is not None
    assert "Aromi" in lm.tokenizer.get_vocab()


def test_builtins_are_deterministic(tmp_path, monkeypatch):
    # Two builds from scratch, in two empty caches: the same weights and tokenizer bit for bit.
    built = []
    for home in ("a", "b"):
        monkeypatch.setenv("PREFIX_WORKBENCH_HOME", str(tmp_path / home))
        lm = load_model(ModelChoice("tiny-llama"), "text")
        assert lm.path.startswith(str(tmp_path / home))
        built.append(lm)
    a, b = (lm.model.state_dict() for lm in built)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert built[0].tokenizer.get_vocab() == built[1].tokenizer.get_vocab()
    assert built[0].model.config.num_key_value_heads < built[0].model.config.num_attention_heads  # GQA


@pytest.mark.parametrize(
    ("arch", "kind", "objective"),
    [("decoder", "text", "causal-lm"), ("decoder", "classification", "causal-lm"), ("seq2seq", "tagging", "seq2seq"),
     ("encoder", "classification", "seq-cls"), ("encoder", "tagging", "token-cls"),
     ("encoder", "regression", "seq-reg"), ("decoder", "regression", "causal-lm")],
)  # fmt: skip
def test_the_objective_follows_architecture_and_dataset(arch, kind, objective):
    assert resolve_objective(arch, kind).name == objective


def test_encoder_cannot_generate_text():
    with pytest.raises(CompatibilityError, match="cannot learn a 'text' dataset"):
        load_model(ModelChoice("tiny-bert"), "text")


def test_missing_paths_and_unknown_ids_are_explained(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(ModelChoice("./no/such/dir"), "text")
    with pytest.raises(ModelLoadError, match=r"holds no config\.json"):
        load_model(ModelChoice(str(tmp_path)), "text")
    with pytest.raises(ModelLoadError, match="could not load 'nobody-here/no-model'"):
        load_model(ModelChoice("nobody-here/no-model"), "text")


def test_trust_remote_code_warns():
    with pytest.warns(UserWarning, match="trust_remote_code is on"):
        load_model(ModelChoice("tiny-gpt2", trust_remote_code=True), "text")


@pytest.mark.hub
def test_hub_model_loads():
    lm = load_model(ModelChoice("HuggingFaceTB/SmolLM2-135M"), "text")
    assert lm.objective.name == "causal-lm"


@pytest.mark.parametrize(("file_type", "said"), [(3, {"quantization": "Q4_1"}), (0, {"quantization": "F32"}),
                                                 (None, {})])  # fmt: skip
def test_a_converted_gguf_records_the_quantization_its_file_says(tmp_path, file_type, said):
    import gguf

    from workbench.models.gguf import _quantization

    path = tmp_path / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert _quantization(path) == said


def test_every_packaged_model_is_named_by_its_hub_id_in_an_adapter_and_other_names_as_given():
    from workbench.models import PACKAGED_MODELS, adapter_base_name

    # The rule is the table's hub_id field, whatever the entry: plain transformers loads the base by that name.
    assert PACKAGED_MODELS and all(adapter_base_name(name) == spec.hub_id for name, spec in PACKAGED_MODELS.items())
    assert adapter_base_name("smollm2-135m") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert [adapter_base_name(n) for n in ("tiny-demo", "gpt2", "org/model")] == ["tiny-demo", "gpt2", "org/model"]
