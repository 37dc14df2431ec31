"""A run's lifecycle: train, train more, resume; short runs; a base shared across threads."""

import threading

import pytest

from workbench import Run, RunConfig
from workbench.errors import ConfigError
from workbench.history import StepEvent


def _mean(values):
    return sum(values) / len(values)


def test_continuing_trains_on_at_a_positive_learning_rate_and_the_loss_keeps_falling(make_config):
    cfg = make_config("tiny-demo", train={"steps": 20, "lr": 1e-2, "warmup_steps": 2})
    cfg.data.max_length = 128
    run = Run.create(cfg)
    first = run.train().losses()
    assert run.history.steps[-1].lr == 0.0  # the 20-step schedule ended
    more = run.train(steps=40).steps[20:]
    assert [s.step for s in more] == list(range(21, 41))
    assert all(s.lr > 0 for s in more[:-1]) and more[0].lr == pytest.approx(1e-2 * 19 / 38)
    assert _mean([s.loss for s in more[-5:]]) < _mean(first[-5:])
    assert run.config.train.steps == 40


def test_raising_the_configured_total_continues_the_same_way(make_config):
    a = Run.create(make_config(train={"steps": 10}))
    a.train()
    a.config.train.steps = 16
    lrs = [s.lr for s in a.train().steps[10:]]
    b = Run.create(make_config(train={"steps": 10}))
    b.train()
    assert lrs == pytest.approx([s.lr for s in b.train(steps=16).steps[10:]]) and min(lrs[:-1]) > 0


def test_a_total_at_or_below_the_steps_done_is_refused_in_one_line(make_config):
    run = Run.create(make_config(train={"steps": 6}))
    run.train()
    for steps in (6, 3):
        with pytest.raises(ConfigError, match="the run is at step 6; a total of ") as info:
            run.train(steps=steps)
        assert "\n" not in str(info.value)
    assert run.history.last_step == 6


def test_resume_with_a_new_total_continues_like_train_more(make_config, tmp_path):
    cfg = make_config(train={"steps": 8, "checkpoint_every": 4})
    run = Run.create(cfg)
    run.train(checkpoint_to=tmp_path / "r")
    resumed = Run.resume(tmp_path / "r", steps=12)
    lrs = [s.lr for s in resumed.train().steps[8:]]
    run.train(steps=12)
    assert lrs == pytest.approx([s.lr for s in run.history.steps[8:]])
    with pytest.raises(ConfigError, match="is at step 8; a total of 5 steps"):
        Run.resume(tmp_path / "r", steps=5)


def test_a_short_run_from_python_fits_the_default_warmup_and_an_explicit_one_must_fit():
    cfg = RunConfig()
    cfg.train.steps = 3
    assert cfg.validate().train.warmup() == 0
    cfg.train.warmup_steps = 5
    with pytest.raises(ConfigError, match=r"warmup_steps \(5\) must be smaller than steps \(3\)"):
        cfg.validate()


def test_generate_from_another_thread_while_a_run_on_the_same_base_trains_and_evaluates(make_config):
    # The panel's case: run A is done; run B trains on the same frozen base in a thread (evaluating, with
    # generation and a probe that switches attention) while a cell calls A.generate().
    from workbench.models import load_model

    cfg = make_config("tiny-gpt2", train={"steps": 6})
    base = load_model(cfg.model, "text")
    a = Run.create(cfg, base=base)
    a.train()
    prompts = ["name[Aromi] food[Italian]", "name[Zizzi] area[riverside] priceRange[cheap]"]
    quiet = a.generate(prompts, max_new_tokens=8)
    attention = base.model.config._attn_implementation
    b = Run.create(make_config("tiny-gpt2", train={"steps": 60, "eval_every": 5, "eval_generate": 8}), base=base)
    probes = []

    def probe(event):
        if not isinstance(event, StepEvent):
            probes.append(b.probe())

    worker = threading.Thread(target=b.train, args=([probe],))
    worker.start()
    seen = []
    while worker.is_alive():
        seen.append(a.generate(prompts, max_new_tokens=8))
    worker.join()
    assert len(seen) >= 3 and probes and all(out == quiet for out in seen)
    assert base.model.config._attn_implementation == attention and not base.model.training


def test_runs_share_a_generative_base_and_a_classifier_gets_a_base_of_its_own(make_config):
    # One rule (LoadedModel.shareable, applied by Run.create) for the panel and sweeps alike.
    from workbench.models import load_model
    from workbench.models.sharing import base_of

    for model, dataset, kind, shared in [("tiny-gpt2", "toy-e2e", "text", True),
                                          ("tiny-bert", "toy-sentiment", "classification", False)]:  # fmt: skip
        cfg = make_config(model, dataset, train={"steps": 3})
        base = load_model(cfg.model, kind, label_names=["negative", "positive"] if not shared else None)
        assert base.shareable is shared
        run = Run.create(cfg, base=base)
        assert (base_of(run.model) is base.model) is shared


def test_a_stop_during_the_test_split_evaluation_ends_it_and_the_last_word_is_the_validations(make_config):
    # Scoring a real model's test split takes minutes; Ctrl-C or SIGTERM then must not wait for it.
    cfg = make_config("tiny-gpt2", "toy-sentiment", data={"test_fraction": 0.2}, train={"steps": 2, "warmup_steps": 0})
    run = Run.create(cfg)
    stop = threading.Event()
    scored = []
    original = run._evaluate
    run._evaluate = lambda split, *a, **k: scored.append(split) or stop.set() or original(split, *a, **k)
    history = run.train(stop=stop)
    assert history.ends[-1].reason == "completed" and scored == ["test"]  # asked, and abandoned at once
    assert run.test is None and run.final_evaluation() is run.trainer.last_eval is not None
