import itertools

import pytest

from workbench import Run
from workbench.generate import generate_texts
from workbench.models import load_model


def test_batched_left_padded_generation_equals_one_by_one(make_config):
    run = Run.create(make_config("tiny-llama", train={"steps": 15, "lr": 0.3}))
    run.train()
    prompts = [
        "name[Aromi] food[Italian] area[riverside]",
        "name[Zizzi]",
        "name[The Golden Curry] eatType[pub] near[Cotto]",
    ]
    batched = run.generate(prompts, max_new_tokens=8)
    single = [run.generate([p], max_new_tokens=8)[0] for p in prompts]
    assert batched == single


@pytest.mark.parametrize("model", ["tiny-gpt2", "tiny-t5", "tiny-bart"])
def test_without_the_prefix_is_the_bare_base_model_and_with_it_is_not(make_config, model):
    run = Run.create(make_config(model, train={"steps": 30, "lr": 0.3}))
    run.train()
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi] area[riverside]"]
    bare = load_model(run.config.model, "text")  # a fresh copy of the base, never wrapped
    assert run.generate(prompts, use_prefix=False, max_new_tokens=8) == generate_texts(
        bare.model, bare.tokenizer, prompts, objective=bare.objective, max_new_tokens=8
    )
    assert run.generate(prompts, use_prefix=False, max_new_tokens=8) != run.generate(prompts, max_new_tokens=8)


@pytest.mark.parametrize("model", ["tiny-t5", "tiny-bart"])
def test_encoder_decoder_generation_is_the_greedy_decoding_of_its_logits(make_config, model):
    # Batched generation equals one prompt at a time, and each output is the argmax continuation.
    import torch

    run = Run.create(make_config(model, train={"steps": 20, "lr": 0.3}))
    run.train()
    prompts = ["name[Aromi] food[Italian] area[riverside]", "name[Zizzi]"]
    batched = run.generate(prompts, max_new_tokens=6)
    assert batched == [run.generate([p], max_new_tokens=6)[0] for p in prompts]
    model_, tok = run.live_model.eval(), run.tokenizer
    enc = tok([prompts[1]], return_tensors="pt")
    ids = torch.tensor([[model_.config.decoder_start_token_id]])
    with torch.no_grad():
        for _ in range(6):
            logits = model_(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=ids
            ).logits
            nxt = logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
            if nxt.item() == tok.eos_token_id:
                break
    assert batched[1] == tok.decode(ids[0, 1:], skip_special_tokens=True).strip()


def test_a_stop_ends_generation_within_a_token_and_skips_later_batches(make_config):
    from workbench.generate import generate_texts

    run = Run.create(make_config())
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi]", "name[Cotto]", "name[Strada]"]
    calls = itertools.count()
    # Asked before the first batch (call 0) and after every generated token (calls 1, 2, 3 …).
    outputs = generate_texts(run.model, run.tokenizer, prompts, objective="causal-lm", max_new_tokens=20, batch_size=2,
                             stop=lambda: next(calls) >= 3)  # fmt: skip
    full = generate_texts(run.model, run.tokenizer, prompts[:2], objective="causal-lm", max_new_tokens=20, batch_size=2)
    assert len(outputs) == 2  # the second batch never started
    assert all(len(run.tokenizer.tokenize(o)) <= 3 for o in outputs)
    assert all(len(run.tokenizer.tokenize(f)) > 3 for f in full)


def test_a_one_line_reply_ends_at_the_newline_after_its_text_not_at_one_before_it():
    # A briefly trained prefix on SmolLM2 opened its reply with "\n": ending there left every reply empty.
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from workbench.generate import _EndAtNewline

    tok = Tokenizer(models.BPE(vocab={"The": 0, "ĠEagle": 1, "Ċ": 2, "ĊĊ": 3, "<|end|>": 4}, merges=[]))
    tok.pre_tokenizer, tok.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    end = _EndAtNewline(PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end|>"))
    # Two rows, one token at a time: row 0 writes "\n\n", "The", "Eagle", "\n"; row 1 writes "The", "\n".
    steps = [[3, 0], [0, 2], [1, 1], [2, 2]]
    ids, ended = torch.tensor([[4], [4]]), []
    for step in steps:
        ids = torch.cat([ids, torch.tensor(step).view(2, 1)], dim=1)
        ended.append(end(ids, None).tolist())
    assert ended == [[False, False], [False, True], [False, False], [True, True]]


def test_a_call_written_with_the_former_task_keyword_gives_the_same_texts_with_a_deprecation_warning(make_config):
    run = Run.create(make_config())
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi]"]
    now = generate_texts(run.model, run.tokenizer, prompts, objective=run.objective, max_new_tokens=6)
    with pytest.warns(DeprecationWarning, match=r"generate_texts\(task=…\) is now generate_texts\(objective=…\)"):
        assert generate_texts(run.model, run.tokenizer, prompts, task="causal-lm", max_new_tokens=6) == now
