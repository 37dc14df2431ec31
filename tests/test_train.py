import itertools
import json
import math
import threading

import pytest
import torch

from workbench import Run
from workbench.history import EndEvent, EvalEvent, StepEvent
from workbench.loss import batch_loss
from workbench.models import BUILTIN_MODELS

FAMILIES = [
    (name, {"bert": "toy-sentiment", "roberta": "toy-ner"}.get(spec.model_type, "toy-e2e"))
    for name, spec in BUILTIN_MODELS.items()
    if not spec.shipped
]


def _base_state(run):
    return {n: p.detach().clone() for n, p in run.model.get_base_model().named_parameters() if not p.requires_grad}


@pytest.mark.parametrize(("model", "dataset"), FAMILIES)
def test_every_family_learns_and_keeps_its_base_weights(make_config, model, dataset):
    run = Run.create(make_config(model, dataset, train={"steps": 24, "lr": 0.3}))
    before = _base_state(run)
    history = run.train()
    losses = history.losses()
    assert len(losses) == 24 and all(math.isfinite(x) for x in losses)
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < first - 0.02, (first, last)
    after = _base_state(run)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[n], after[n]) for n in before)  # bit-identical
    assert history.ends[-1].reason == "completed" and history.evals[-1].step == 24


def test_events_reach_callbacks_in_order(make_config):
    events = []
    run = Run.create(make_config(train={"steps": 6, "eval_every": 3, "log_every": 2}))
    run.train([events.append])
    kinds = [(type(e).__name__, e.step) for e in events]
    assert kinds == [("StepEvent", 2), ("EvalEvent", 3), ("StepEvent", 4), ("StepEvent", 6), ("EvalEvent", 6),
                     ("EndEvent", 6)]  # fmt: skip
    step = events[0]
    assert isinstance(step, StepEvent) and step.tokens_per_s > 0 and step.lr > 0 and step.total_steps == 6
    assert isinstance(events[-2], EvalEvent) and "slot_coverage" in events[-2].metrics


def test_a_short_run_evaluates_half_way_and_at_the_end_by_default_and_only_at_the_end_when_asked(make_config):
    fitted = Run.create(make_config(train={"steps": 8, "eval_every": None, "eval_generate": 0}))
    assert [e.step for e in fitted.train().evals] == [4, 8]
    final = Run.create(make_config(train={"steps": 8, "eval_every": 0, "eval_generate": 0}))
    assert [e.step for e in final.train().evals] == [8]


def test_time_throttled_loss_reads_log_before_evaluations_and_at_the_end_averaging_the_steps_between(make_config):
    every_step = Run.create(make_config(train={"steps": 6, "eval_every": 3}))
    every_step.train()
    throttled = Run.create(make_config(train={"steps": 6, "eval_every": 3, "log_every_s": 3600.0}))
    events = []
    throttled.train([events.append])
    kinds = [(type(e).__name__, e.step) for e in events]
    assert kinds == [("StepEvent", 3), ("EvalEvent", 3), ("StepEvent", 6), ("EvalEvent", 6), ("EndEvent", 6)]
    losses = every_step.history.losses()
    assert events[0].loss == pytest.approx(sum(losses[:3]) / 3, rel=1e-5)  # same seed, same steps
    assert events[2].loss == pytest.approx(sum(losses[3:]) / 3, rel=1e-5)


def test_stop_flag_ends_at_a_step_boundary_and_training_can_continue(make_config):
    run = Run.create(make_config(train={"steps": 50}))
    stop = threading.Event()

    def stop_at_five(event):
        if isinstance(event, StepEvent) and event.step == 5:
            stop.set()

    history = run.train([stop_at_five], stop=stop)
    assert history.ends[-1] == EndEvent(5, "stopped", "stopped at step 5", history.ends[-1].elapsed_s)
    assert history.last_step == 5 and not history.evals
    history = run.train()  # continues where it stopped
    assert history.last_step == 50 and history.ends[-1].reason == "completed"
    assert [s.step for s in history.steps] == list(range(1, 51))


def test_second_concurrent_train_is_refused(make_config):
    run = Run.create(make_config(train={"steps": 200}))
    started, results = threading.Event(), []

    def on_step(event):
        started.set()

    worker = threading.Thread(target=lambda: results.append(run.train([on_step])))
    worker.start()
    started.wait(30)
    with pytest.raises(RuntimeError, match="already training"):
        run.train()
    run.stop()
    worker.join(30)
    assert results[0].ends[-1].reason == "stopped"


def test_non_finite_loss_stops_and_restores_the_last_good_prefix(make_config):
    run = Run.create(make_config(train={"steps": 10}))
    trainer = run.trainer
    good = {}
    original = trainer.model.forward

    def poisoned(*args, **kwargs):
        out = original(*args, **kwargs)
        if trainer.step >= 3:  # the logits the loss is taken from
            out.logits = out.logits * float("nan")
        return out

    def remember(event):
        if isinstance(event, StepEvent) and event.step == 3:
            good["prefix"] = [p.detach().clone() for p in trainer.params]

    trainer.model.forward = poisoned
    history = run.train([remember])
    end = history.ends[-1]
    assert end.reason == "non-finite" and "lower learning rate" in end.message and end.step == 4
    assert all(torch.equal(a, b) for a, b in zip(good["prefix"], trainer.params))
    assert all(torch.isfinite(p).all() for p in trainer.params)


def test_gradient_accumulation_steps_once_on_the_mean_of_the_micro_batch_gradients(make_config):
    # One optimizer step over 3 micro-batches must equal AdamW applied by hand to the mean of their gradients:
    # ignoring a micro-batch, or stepping after each one, gives another prefix.
    settings = {"steps": 1, "grad_accum": 3, "batch_size": 2, "warmup_steps": 0, "max_grad_norm": 0.0}
    run = Run.create(make_config(train=settings))
    trainer = run.trainer
    start = [p.detach().clone() for p in trainer.params]
    micro = [batch for batch, _ in itertools.islice(trainer._batches(), 3)]
    draws = trainer.random.state  # the same dropout draws for the trainer and for the hand-made step
    run.train()
    trained = [p.detach().clone() for p in trainer.params]

    with torch.no_grad():
        for p, s in zip(trainer.params, start):
            p.copy_(s)
    model = trainer.unwrapped
    model.train()
    trainer.random.state = draws
    with trainer.random:
        for batch in micro:
            (batch_loss(model, batch, run.objective) / 3).backward()  # the loss the trainer takes
    reference = torch.optim.AdamW(trainer.params, lr=run.config.train.lr, weight_decay=run.config.train.weight_decay)
    reference.step()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(trained, trainer.params))
    assert not all(torch.allclose(a, b) for a, b in zip(trained, start))


def test_a_stop_during_an_evaluation_abandons_it(make_config, monkeypatch):
    import workbench.evaluate as evaluation

    run = Run.create(make_config(train={"steps": 50, "eval_every": 3, "eval_generate": 32, "max_new_tokens": 48}))
    stop = threading.Event()
    generate, tokens = evaluation.generate_texts, []

    def stop_while_generating(*args, **kwargs):
        # The second evaluation is under way (its loss pass done) when the stop arrives.
        if run.trainer.step == 6:
            stop.set()
        out = generate(*args, **kwargs)
        tokens.append(sum(len(o.split()) for o in out))
        return out

    monkeypatch.setattr(evaluation, "generate_texts", stop_while_generating)
    history = run.train(stop=stop)
    assert [e.step for e in history.evals] == [3]  # the evaluation at step 6 was dropped, not finished
    assert history.ends[-1].reason == "stopped" and history.ends[-1].step == 6
    assert tokens[1] <= 32  # within a token of the stop: at most one token for each of the 32 rows


@pytest.mark.parametrize(
    ("precision", "device", "expected"),
    [("fp32", "auto", "no"), ("bf16", "cpu", "bf16"), ("fp16", "auto", "fp16"), ("auto", "cpu", "no")],
)
def test_pick_precision_follows_the_setting_and_the_device(precision, device, expected):
    from workbench.config import TrainSettings
    from workbench.train import pick_precision

    assert pick_precision(TrainSettings(precision=precision, device=device)) == expected
    if not torch.cuda.is_available():
        assert pick_precision(TrainSettings(precision="auto", device="auto")) == "no"  # no GPU here: fp32


def test_cli_device_and_precision_reach_the_trainer(tmp_path):
    from workbench.cli import main

    out = tmp_path / "cpu"
    args = ["--steps", "3", "--eval-every", "0", "--max-train-examples", "32", "--device", "cpu", "--precision", "fp32"]
    assert main(["train", *args, "--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["train"]["device"] == "cpu" and info["config"]["train"]["precision"] == "fp32"


def test_every_end_reason_has_one_ending_that_every_front_end_reads():
    import typing

    from workbench.cli import EXIT_DIVERGED, EXIT_STOPPED
    from workbench.history import ENDINGS

    assert set(typing.get_args(typing.get_type_hints(EndEvent)["reason"])) == set(ENDINGS)
    assert (EXIT_STOPPED, EXIT_DIVERGED) == (130, 3) and ENDINGS["completed"].exit_code == 0
    assert EndEvent(4, "stopped").summary == "stopped at step 4"
    assert EndEvent(4, "non-finite", "loss became nan at step 4").summary == "loss became nan at step 4"
