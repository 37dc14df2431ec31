"""Small data files of the kinds users bring, written into a test's folder.

Rows use words the built-in tokenizers know (the toy restaurant world), plus a few
they do not, so runs can learn something in a few steps and coverage checks have
something to find.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

GOOD = ("great", "lovely", "fresh", "tasty", "superb", "delicious")
BAD = ("awful", "rude", "cold", "bland", "stale", "terrible")
FOODS = ("Italian", "French", "Chinese", "Indian")


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    """``rows`` as a .csv (header from the first row) or .jsonl file, by ``path``'s suffix."""
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def reviews(n: int = 60, *, labels: tuple[Any, Any] = ("bad", "good"), seed: int = 0) -> list[dict[str, Any]]:
    """``text`` + ``label``: a review and one of two labels (strings, ints or bools)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        good = i % 2 == 1
        a, b = rng.sample(GOOD if good else BAD, 2)
        rows.append({"text": f"The food was {a} and the staff was {b} .", "label": labels[good]})
    return rows


def stars(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``text`` + ``stars`` (1.0-5.0, decimals): a regression target."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        score = rng.randint(1, 5)
        words = rng.sample(GOOD, 2) if score > 3 else rng.sample(BAD, 2) if score < 3 else [GOOD[0], BAD[0]]
        rows.append({"review": f"The food was {words[0]} and {words[1]} .", "stars": float(score)})
    return rows


def answers(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``source`` (a record) + ``target`` (one word): a look-up, scored by exact match."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        price = rng.choice(("cheap", "moderate", "expensive"))
        rows.append({"source": f"name[Zizzi] priceRange[{price}] area[riverside]", "target": price})
    return rows


def tags(n: int = 60, *, seed: int = 0) -> list[dict[str, Any]]:
    """``tokens`` + ``tags`` as strings (BIO)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        food = rng.choice(FOODS)
        rows.append({"tokens": ["I", "had", food, "food", "."], "tags": ["O", "O", "B-food", "O", "O"]})
    return rows


def renamed(rows: list[dict[str, Any]], **names: str) -> list[dict[str, Any]]:
    """``rows`` with columns renamed as a file from elsewhere names them: ``renamed(rows, source="mr")``."""
    return [{names.get(key, key): value for key, value in row.items()} for row in rows]


# A restaurant world in Chinese: names, cuisines, prices and areas, each a few characters.
ZH_NAMES = ("金龙", "小园", "老街", "红灯笼", "竹林", "月亮湾")
ZH_FOODS = ("川菜", "粤菜", "湘菜", "面食")
ZH_PRICES = ("便宜", "中等", "昂贵")
ZH_AREAS = ("河边", "市中心")


def chinese_records(n: int = 48, *, seed: int = 0) -> list[dict[str, Any]]:
    """``source`` (a record, keys in English as E2E's) + ``target`` (a Chinese sentence without spaces)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        name, food, price, area = (rng.choice(c) for c in (ZH_NAMES, ZH_FOODS, ZH_PRICES, ZH_AREAS))
        rows.append({"source": f"name[{name}] food[{food}] price[{price}] area[{area}]",
                     "target": f"{name}是一家位于{area}的{food}餐厅，价格{price}。"})  # fmt: skip
    return rows


def byte_level_tokenizer(texts: list[str], *, vocab_size: int = 320) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, as GPT-2's is: it encodes any script, and with few
    merges splits most Chinese characters into byte pieces (``vocab_size=257``: bytes only, no merges)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    end = "<|endoftext|>"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[end], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=end, eos_token=end, pad_token=end)


def byte_level_gpt2(path: Path, texts: list[str]) -> Path:
    """A tiny random GPT-2 folder with :func:`byte_level_tokenizer` trained on ``texts``: a model of the user's
    own that reads Chinese (the built-ins' word-level vocabularies know only the toy world's words)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = byte_level_tokenizer(texts, vocab_size=400)  # rows of ~26 tokens, many characters still split
    end = tokenizer.eos_token_id
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=end, eos_token_id=end, pad_token_id=end)  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
