"""The readout names what a prefix started from, and reads prompt-tuning embeddings too."""

from __future__ import annotations

import pytest
from peft import PromptTuningConfig, PromptTuningInit, get_peft_model

from workbench import Run
from workbench.analysis import slot_readout


@pytest.mark.parametrize("model", ["tiny-demo", "tiny-llama"])
def test_a_text_initialised_prefix_reads_back_as_its_init_words(make_config, model):
    run = Run.create(make_config(model, prefix={"length": 4, "init": "text", "init_text": "food name"}))
    readout = slot_readout(run.live_model, run.tokenizer, objective=run.objective, top=3)
    # Slot 0 is exactly the base's key of "food" at position 0 (where the readout reads every token).
    assert readout.overall[0][0][0] == "food"
    assert readout.overall[0][0][1] == pytest.approx(1.0, abs=1e-4)
    # Later slots hold the words in context ("food name food name"): still among the nearest.
    assert "name" in [t for t, _ in readout.overall[1]]
    assert "food" in [t for t, _ in readout.overall[2]]
    assert len(readout.by_layer) == run.live_model.active_peft_config.num_layers
    assert readout.vocab == readout.vocab_size - len(run.tokenizer.all_special_ids)


def test_a_sampled_vocabulary_is_seeded(make_config):
    run = Run.create(make_config("tiny-gpt2"))
    first = slot_readout(run.live_model, run.tokenizer, objective=run.objective, vocab=40, seed=3)
    again = slot_readout(run.live_model, run.tokenizer, objective=run.objective, vocab=40, seed=3)
    assert first.vocab == 40 and first.overall == again.overall


@pytest.mark.parametrize("model", ["tiny-t5", "tiny-bert"])
def test_encoder_decoders_and_encoders_read_out(make_config, model):
    dataset = "toy-sentiment" if model == "tiny-bert" else "toy-e2e"
    run = Run.create(make_config(model, dataset, prefix={"length": 3}))
    readout = slot_readout(run.live_model, run.tokenizer, objective=run.objective, top=2)
    assert len(readout.overall) == 3 and all(len(near) == 2 for near in readout.overall)
    assert all(-1.0 <= s <= 1.0 for near in readout.overall for _, s in near)


def test_prompt_tuning_is_read_in_embedding_space(make_config):
    run = Run.create(make_config("tiny-demo"))
    base = run.loaded.model
    config = PromptTuningConfig(
        task_type="CAUSAL_LM",
        num_virtual_tokens=3,
        prompt_tuning_init=PromptTuningInit.TEXT,
        prompt_tuning_init_text="food name food",
        tokenizer_name_or_path=run.loaded.path,
    )
    model = get_peft_model(base.__class__.from_pretrained(run.loaded.path), config)
    readout = slot_readout(model, run.tokenizer, objective=run.objective, top=1)
    assert readout.space == "embeddings"
    assert [near[0][0] for near in readout.overall] == ["food", "name", "food"]
    assert readout.overall[0][0][1] == pytest.approx(1.0, abs=1e-5)


def test_tokens_the_model_has_no_embedding_for_are_left_out(make_config):
    run = Run.create(make_config("tiny-llama"))
    tokenizer = run.tokenizer
    rows = run.live_model.get_input_embeddings().num_embeddings
    tokenizer.add_tokens(["zzextra1", "zzextra2", "zzextra3"])  # a tokenizer that knows more than the model
    assert len(tokenizer) > rows
    readout = slot_readout(run.live_model, tokenizer, objective=run.objective, top=2)
    assert readout.vocab_size == rows and readout.vocab == rows - len(tokenizer.all_special_ids)
