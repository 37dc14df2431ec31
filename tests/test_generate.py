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
