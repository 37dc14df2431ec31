import pytest

from workbench.config import DataChoice, ModelChoice
from workbench.data import IGNORE, Collator, encode_split, load_task_data
from workbench.models import load_model


@pytest.fixture(scope="module")
def e2e():
    return load_task_data(DataChoice("toy-e2e", max_train_examples=50))


def test_causal_labels_cover_the_target_and_eos_only(e2e):
    lm = load_model(ModelChoice("tiny-gpt2"), "text")
    enc = encode_split(e2e, "train", lm.tokenizer, lm.objective, max_length=128, separator="->")
    feat = enc.features[0]
    n_source = len(lm.tokenizer(f"{e2e.train[0]['source']} ->")["input_ids"])
    assert feat["labels"][:n_source] == [IGNORE] * n_source
    target = [t for t in feat["labels"] if t != IGNORE]
    assert target[-1] == lm.tokenizer.eos_token_id
    assert lm.tokenizer.decode(target[:-1]) == e2e.train[0]["target"]


def test_truncation_is_counted_and_warned(e2e):
    lm = load_model(ModelChoice("tiny-gpt2"), "text")
    with pytest.warns(UserWarning, match=r"\d+ of 50 train examples .* truncated"):
        enc = encode_split(e2e, "train", lm.tokenizer, lm.objective, max_length=16, separator="->")
    assert enc.truncated > 0 and all(len(f["input_ids"]) <= 16 for f in enc.features)
    assert all(any(t != IGNORE for t in f["labels"]) for f in enc.features)


def test_token_classification_labels_first_subtoken_only():
    data = load_task_data(DataChoice("toy-ner", max_train_examples=20))
    lm = load_model(ModelChoice("tiny-bert"), "tagging", label_names=data.label_names)
    enc = encode_split(data, "train", lm.tokenizer, lm.objective, max_length=64, separator="")
    feat, row = enc.features[0], data.train[0]
    assert [t for t in feat["labels"] if t != IGNORE] == row["tags"]
    assert feat["labels"][0] == IGNORE  # <s>


def test_collator_pads_right_with_pad_and_ignore():
    batch = Collator(pad_token_id=0)(
        [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
