"""One prompt, two replies: streamed, equal to plain generation, with the attention for that prompt."""

from __future__ import annotations

import pytest

from workbench import Run
from workbench.errors import CompatibilityError, DataError

PROMPT = "name[Aromi] food[Italian] area[riverside]"


@pytest.fixture(scope="module")
def run():
    from workbench import RunConfig

    cfg = RunConfig()  # tiny-demo on toy-e2e: a base that already writes, a prefix that learns the task
    cfg.data.max_train_examples, cfg.train.steps, cfg.train.eval_generate, cfg.prefix.length = 64, 6, 2, 4
    run = Run.create(cfg)
    run.train()
    return run


def test_both_replies_stream_and_equal_plain_generation(run):
    seen: dict[str, list[str]] = {"base": [], "prefix": []}
    replies = run.try_it(PROMPT, max_new_tokens=12, on_text=lambda which, text: seen[which].append(text))
    assert replies.base == run.generate([PROMPT], use_prefix=False, max_new_tokens=12)[0]
    assert replies.prefix == run.generate([PROMPT], max_new_tokens=12)[0]
    assert len(seen["prefix"]) > 3 and len(replies.prefix.split()) > 3  # token by token
    for which, reply in (("base", replies.base), ("prefix", replies.prefix)):
        assert seen[which][-1] == reply and all(reply.startswith(part) for part in seen[which][:-1])
    attention = replies.attention
    assert attention.key_labels[:4] == ["P0", "P1", "P2", "P3"] and "Aromi" in attention.query_labels
    assert "<table>" in replies._repr_html_() and "with the prefix" in replies._repr_html_()


def test_stop_ends_the_reply_in_progress_and_skips_the_rest(run):
    seen = []
    replies = run.try_it(PROMPT, max_new_tokens=40, on_text=lambda which, text: seen.append(which),
                         stop=lambda: len(seen) >= 2)  # fmt: skip
    assert replies.stopped and replies.attention is None and replies.prefix == ""
    assert set(seen) == {"base"}


def test_a_head_has_no_reply_and_a_chat_prompt_must_end_with_a_user_turn(run, make_config):
    classifier = Run.create(make_config("tiny-bert", "toy-sentiment"))
    with pytest.raises(CompatibilityError, match="writes no reply"):
        classifier.try_it("the food was great")
    with pytest.raises(DataError, match="is a string"):
        run.try_it([{"role": "user", "content": "hi"}])  # a text run's prompt is text
