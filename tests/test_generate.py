import itertools

from workbench import Run


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


def test_base_and_prefix_outputs_differ_after_training(make_config):
    run = Run.create(make_config(train={"steps": 30, "lr": 0.3}))
    run.train()
    prompts = ["name[Aromi] food[Italian]"]
    assert run.generate(prompts, use_prefix=False) != run.generate(prompts)


def test_a_stop_ends_generation_within_a_token_and_skips_later_batches(make_config):
    from workbench.generate import generate_texts

    run = Run.create(make_config())
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi]", "name[Cotto]", "name[Strada]"]
    calls = itertools.count()
    # Asked before the first batch (call 0) and after every generated token (calls 1, 2, 3 …).
    outputs = generate_texts(run.model, run.tokenizer, prompts, task="causal-lm", max_new_tokens=20, batch_size=2,
                             stop=lambda: next(calls) >= 3)  # fmt: skip
    full = generate_texts(run.model, run.tokenizer, prompts[:2], task="causal-lm", max_new_tokens=20, batch_size=2)
    assert len(outputs) == 2  # the second batch never started
    assert all(len(run.tokenizer.tokenize(o)) <= 3 for o in outputs)
    assert all(len(run.tokenizer.tokenize(f)) > 3 for f in full)
