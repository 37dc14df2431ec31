"""Process-wide switches and random state: overlapping calls in threads leave everything as the user had it."""

import logging
import threading

import datasets.config
import torch
import transformers
from huggingface_hub import constants

from workbench import Run
from workbench.hub import hub_timeouts, offline_datasets
from workbench.process_state import RandomStream, held_verbosity, seeded
from workbench.quiet import quiet


def _overlap(block):
    """Thread A enters ``block``, B enters, A leaves, then B: what each saw inside, and after both."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with block():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with block():
            b_in.set()
            a_out.wait(10)
            seen["b after a left"] = _switches()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return seen["b after a left"]


def _switches():
    return {
        "datasets offline": datasets.config.HF_HUB_OFFLINE,
        "etag timeout": constants.HF_HUB_ETAG_TIMEOUT,
        "transformers verbosity": transformers.logging.get_verbosity(),
        "transformers bars": transformers.utils.logging.is_progress_bar_enabled(),
        "datasets bars": datasets.is_progress_bar_enabled(),
    }


def _everything():
    from contextlib import ExitStack, contextmanager

    @contextmanager
    def block():
        with ExitStack() as stack:
            for switch in (offline_datasets(), hub_timeouts(), held_verbosity(transformers.logging, logging.ERROR),
                           quiet()):  # fmt: skip
                stack.enter_context(switch)
            yield

    return block


def test_overlapping_blocks_in_two_threads_keep_the_switch_until_the_last_leaves_then_restore_the_users(monkeypatch):
    monkeypatch.delenv("HF_HUB_ETAG_TIMEOUT", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 60)  # a user who raised it in code
    transformers.logging.set_verbosity_info()
    try:
        before = _switches()
        inside = _overlap(_everything())
        # A save-set-restore per call put the user's values back while B was still inside, then B's saved
        # copy of A's values back for good.
        assert inside == {**before, "datasets offline": True, "etag timeout": inside["etag timeout"],
                          "transformers verbosity": logging.ERROR, "transformers bars": False,
                          "datasets bars": False}  # fmt: skip
        assert inside["etag timeout"] != before["etag timeout"]
        assert _switches() == before
    finally:
        transformers.logging.set_verbosity_warning()


def test_a_quieter_verbosity_the_user_chose_stays():
    transformers.logging.set_verbosity(logging.CRITICAL)
    try:
        with held_verbosity(transformers.logging, logging.ERROR):
            assert transformers.logging.get_verbosity() == logging.CRITICAL
    finally:
        transformers.logging.set_verbosity_warning()


def test_two_runs_created_and_trained_in_threads_leave_every_setting_as_the_user_had_it(make_config):
    transformers.logging.set_verbosity_info()
    try:
        before = _switches()
        errors = []

        def one(model, dataset):
            try:
                Run.create(make_config(model, dataset, train={"steps": 3})).train()
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=one, args=pair)
            for pair in (("tiny-gpt2", "toy-e2e"), ("tiny-bert", "toy-sentiment"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        assert _switches() == before
    finally:
        transformers.logging.set_verbosity_warning()


def test_creating_and_training_a_run_neither_uses_nor_moves_the_users_random_state(make_config):
    # tiny-gpt2 has dropout 0.1: training draws random numbers at every step.
    cfg = make_config("tiny-gpt2", train={"steps": 3})
    losses = []
    for user_seed in (1, 2):
        torch.manual_seed(user_seed)
        before = torch.get_rng_state()
        run = Run.create(cfg)
        losses.append(run.train().losses())
        assert torch.equal(torch.get_rng_state(), before)
    assert losses[0] == losses[1]  # the run's own seed alone decides its draws


def test_two_runs_from_one_config_stay_independent(make_config):
    cfg = make_config(train={"steps": 4})
    first, second = Run.create(cfg), Run.create(cfg)
    first.train(steps=6)
    assert (first.config.train.steps, second.config.train.steps, cfg.train.steps) == (6, 4, 4)
    cfg.prefix.length = 3
    assert first.config.prefix.length == second.config.prefix.length != 3


def test_seeded_draws_repeat_and_a_stream_moves_on_without_touching_the_global_state():
    torch.manual_seed(7)
    before = torch.get_rng_state()
    with seeded(3):
        a = torch.rand(3)
    with seeded(3):
        b = torch.rand(3)
    stream = RandomStream(3)
    with stream:
        c = torch.rand(3)
    with stream:
        d = torch.rand(3)
    assert torch.equal(a, b) and torch.equal(a, c) and not torch.equal(c, d)
    assert torch.equal(torch.get_rng_state(), before)
