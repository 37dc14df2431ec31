"""The panel's Try-it box headless: replies after training, between two training steps, and for a saved run."""

from __future__ import annotations

import pytest

from workbench.ui import Workbench

PROMPT = "name[Zizzi] food[French] area[riverside]"


@pytest.fixture
def panel(make_config):
    panel = Workbench(make_config("tiny-demo", train={"steps": 8, "eval_every": 4}), chart_interval_s=0,
                      chart_budget=None)  # fmt: skip
    assert panel.settled(timeout=120)
    return panel


def test_reply_before_any_run_says_what_to_do(panel):
    panel.try_area.prompt.value = PROMPT
    panel.try_area.button.click()
    assert "nothing to try yet" in panel.try_area.status.value
    panel.try_area.prompt.value = " "
    panel.try_area.ask()
    assert "type a prompt first" in panel.try_area.status.value


def test_after_training_both_replies_and_the_attention_for_the_prompt_show(panel, tmp_path):
    run = panel.train(wait=True)
    replies = panel.try_area.ask(PROMPT, wait=True)
    assert replies.prefix == run.generate([PROMPT])[0] and replies.base == run.generate([PROMPT], use_prefix=False)[0]
    assert replies.prefix in panel.try_area.prefix.value and replies.base in panel.try_area.base.value
    assert panel.try_area.attention.probe is replies.attention and "Zizzi" in replies.attention.query_labels
    assert "for this prompt" in panel.try_area.status.value and not panel.try_area.button.disabled
    # A run loaded from its directory answers the same.
    path = panel.export(tmp_path / "saved")
    panel.try_area.path.value = str(path)
    again = panel.try_area.ask(PROMPT, wait=True)
    assert again.prefix == replies.prefix and again.base == replies.base


def test_a_prompt_typed_during_training_is_answered_between_two_steps(panel, hold_at_step):
    started, go_on = hold_at_step(panel, 2)
    panel.train()
    assert started.wait(60)
    assert panel.try_area.ask(PROMPT) is None  # waits for the training thread
    assert "next step boundary" in panel.try_area.status.value
    go_on.set()
    run = panel.wait(120)
    replies = panel.try_area.last
    assert replies is not None and replies.attention is not None and replies.prefix
    assert run.history.last_step == 8 and panel.try_area._pending is None


def test_a_chat_file_previews_trains_and_is_tried_as_a_conversation(panel, tmp_path):
    import chat_files
    import user_files

    panel.controls.model.value = "tiny-gpt2"
    for fmt in ("alpaca", "sharegpt", "messages"):  # each read with no mapping; the last one trains
        panel.controls.dataset.value = str(user_files.write(tmp_path / f"{fmt}.jsonl", chat_files.FORMATS[fmt](30)))
        panel.settled()
        assert "(chat)" in panel.info.preview.value and "user: " in panel.info.preview.value
        assert "no chat template" in panel.info.findings.value
    run = panel.train(wait=True)
    assert run.dataset_kind == "chat" and "user: name[" in panel.samples.table.value
    replies = panel.try_area.ask("name[Cotto] food[French]", wait=True)
    assert replies.prompt == [{"role": "user", "content": "name[Cotto] food[French]"}]
    assert replies.prefix == run.generate(["name[Cotto] food[French]"])[0]
