"""The seeds' tasks on a real encoder and real data: MiniLM-L6 on WNUT-17 (NER) and BANKING77 (intents)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench import Run, RunConfig

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def wnut17() -> Path:
    if not (DATA / "wnut17" / "train.jsonl").is_file():
        pytest.skip("WNUT-17 is not beside the project (../shared/data/wnut17)")
    return DATA / "wnut17"


def _config(model: str, data: object, **data_settings: object) -> RunConfig:
    cfg = RunConfig()
    cfg.model.name, cfg.data.name = model, data  # type: ignore[assignment]
    for key, value in data_settings.items():
        setattr(cfg.data, key, value)
    cfg.train.steps, cfg.train.eval_every = 24, 12
    return cfg


def test_ner_on_wnut17_learns_and_tags_every_word_even_one_with_no_token(minilm, wnut17):
    dev = [json.loads(line) for line in (wnut17 / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    lone = [row for row in dev if "\ufe0f" in row["tokens"]]  # emoji variation selectors: no WordPiece token
    assert lone, "WNUT-17's dev set holds words that tokenize to nothing"
    validation = pd.DataFrame(dev[:60] + lone)
    run = Run.create(_config(minilm, str(wnut17 / "train.jsonl"), validation=validation, max_train_examples=600,
                             max_eval_examples=len(validation)))  # fmt: skip
    dropped = [f for f in run.splits[1].features[-len(lone) :] if len(f["words"]) < f["n_words"]]
    assert dropped  # those words really have no token to predict from
    run.train()
    first, last = run.history.evals
    assert last.loss < first.loss and last.metrics["f1"] > 0.05
    result = run.final_evaluation()
    assert all(len(p) == len(r["tags"]) for p, r in zip(result.predictions, result.rows))
    assert "entity level (seqeval)" in result.report["text"] and "B-person" in result.report["text"]


def test_intents_on_banking77_learn_well_above_chance(minilm):
    path = DATA / "banking77" / "train.csv"
    if not path.is_file():
        pytest.skip("BANKING77 is not beside the project (../shared/data/banking77)")
    rows = pd.read_csv(path)
    six = rows[rows["label"].isin(sorted(rows["label"].unique())[:6])].sample(frac=1.0, random_state=0)
    run = Run.create(_config(minilm, six.reset_index(drop=True), test_fraction=0.2, max_eval_examples=60))
    run.train()
    assert run.test is not None and run.test.metrics["accuracy"] > 0.5  # six intents: chance is 0.17
    assert run.test.report["confusion"] and len(run.test.report["labels"]) == 6
