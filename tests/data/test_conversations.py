"""Chat and instruction data: each format recognized by its columns, from files and notebook objects alike."""

from __future__ import annotations

import chat_files
import pandas as pd
import pytest
import user_files
from datasets import Dataset

from workbench.config import DataChoice
from workbench.data import load_task_data
from workbench.data.held import hold
from workbench.errors import DataError

# format -> (kind, the words the findings use for it)
EXPECTED = {"messages": ("chat", "messages data"), "sharegpt": ("chat", "ShareGPT data"),
            "prompt-completion": ("chat", "prompt-completion data"), "alpaca": ("chat", "Alpaca data"),
            "text": ("lm", None)}  # fmt: skip


@pytest.mark.parametrize("fmt", list(EXPECTED))
@pytest.mark.parametrize("holder", ["jsonl", "DataFrame", "Dataset"])
def test_each_format_is_recognized_with_no_mapping(fmt, holder, tmp_path):
    rows = chat_files.FORMATS[fmt](20)
    make = {
        "jsonl": lambda: str(user_files.write(tmp_path / f"{fmt}.jsonl", rows)),
        "DataFrame": lambda: hold(pd.DataFrame(rows)),
        "Dataset": lambda: hold(Dataset.from_list(rows)),
    }
    name = make[holder]()
    data = load_task_data(DataChoice(name))
    kind, said = EXPECTED[fmt]
    assert data.kind == kind
    if said:
        assert any(note.startswith(f"read as {said}") for note in data.notes), data.notes
        turns = data.train[0]["messages"]
        assert {t["role"] for t in turns} <= {"system", "user", "assistant"} and turns[-1]["role"] == "assistant"
        source, reply = data.render(data.train[0])
        assert source == turns[:-1] and reply == turns[-1]["content"]
    else:
        assert data.metric == "perplexity" and data.render(data.train[0]) == ("", data.train[0]["text"])


def test_the_formats_read_as_the_same_conversations():
    def load(rows):
        return load_task_data(DataChoice(hold(pd.DataFrame(rows)), validation_fraction=0.25))

    turns = load(chat_files.sharegpt(4)).train[0]["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant"]
    alpaca = load(chat_files.alpaca(4))
    users = [r["messages"][0]["content"] for r in (*alpaca.train, *alpaca.validation)]
    # The input follows the instruction after a blank line; a row without one is the instruction alone.
    assert "describe the restaurant" in users and any(u.startswith("describe the restaurant\n\nname[") for u in users)
    preview = load(chat_files.messages(4)).preview(1)
    assert preview[0][0].startswith("system: describe the restaurant\nuser: name[")  # one turn a line


def test_columns_of_another_name_are_mapped_onto_a_format(tmp_path):
    rows = [{"question": r["prompt"], "answer": r["completion"]} for r in chat_files.prompt_completion(10)]
    path = str(user_files.write(tmp_path / "qa.csv", rows))
    data = load_task_data(DataChoice(path, columns={"prompt": "question", "completion": "answer"}))
    assert data.kind == "chat" and data.train[0]["messages"][0]["role"] == "user"
    # Mapped onto the text kind's roles instead, the same file stays source -> target.
    assert load_task_data(DataChoice(path, columns={"source": "question", "target": "answer"})).kind == "text"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "last turn must be the assistant's reply"),
        (
            {"messages": [{"role": "narrator", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
            "unknown role 'narrator'",
        ),
        (
            {"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "yo"}]},
            "user turn is empty",
        ),
        ({"conversations": [{"speaker": "human", "text": "hi"}]}, "lacks 'from' or 'value'"),
        ({"prompt": "hi", "completion": 3}, "a turn's text is a int"),
    ],
)
def test_a_bad_conversation_is_named_by_its_row(row, needle, tmp_path):
    good = chat_files.messages(3) if "messages" in row else chat_files.sharegpt(3) if "conversations" in row else (
        chat_files.prompt_completion(3))  # fmt: skip
    path = str(user_files.write(tmp_path / "chat.jsonl", [*good, row]))
    with pytest.raises(DataError, match=needle) as err:
        load_task_data(DataChoice(path))
    assert "row 4 of chat.jsonl" in str(err.value) and "\n" not in str(err.value)


def test_a_text_column_beside_another_text_column_is_not_taken_for_language_modelling(tmp_path):
    rows = [{"text": f"good food {i}", "verdict": "good"} for i in range(10)]
    with pytest.raises(DataError, match="cannot tell what task"):
        load_task_data(DataChoice(str(user_files.write(tmp_path / "a.csv", rows))))
    data = load_task_data(DataChoice(str(user_files.write(tmp_path / "b.csv", rows)), kind="lm"))
    assert data.kind == "lm"


def test_chat_data_cannot_join_a_mixture_yet(tmp_path):
    path = str(user_files.write(tmp_path / "chat.jsonl", chat_files.messages(10)))
    with pytest.raises(DataError, match="a mixture of tasks cannot hold yet"):
        load_task_data(DataChoice("toy-e2e", mix=[path]))
