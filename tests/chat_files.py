"""Chat and instruction data in the five shapes people keep it, in the toy restaurant world's words.

Each function returns rows (dicts) for one format; :func:`user_files.write` writes them as a file. The
assistant replies are what the built-in tokenizers can spell, so a run learns them in a few steps.
"""

from __future__ import annotations

import random
from typing import Any

NAMES = ("Aromi", "Zizzi", "Cotto", "Strada", "Wildwood", "Bibimbap")
FOODS = ("Italian", "French", "Chinese", "Indian", "English", "Japanese")
AREAS = ("riverside", "city centre")


def _records(n: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    return [(rng.choice(NAMES), rng.choice(FOODS), rng.choice(AREAS)) for _ in range(n)]


def messages(n: int = 40, *, seed: int = 0) -> list[dict[str, Any]]:
    """``messages``: a system turn, then two user / assistant exchanges."""
    return [{"messages": [
        {"role": "system", "content": "describe the restaurant"},
        {"role": "user", "content": f"name[{name}] food[{food}]"},
        {"role": "assistant", "content": f"{name} serves {food} food ."},
        {"role": "user", "content": f"area[{area}]"},
        {"role": "assistant", "content": f"It is in the {area} ."},
    ]} for name, food, area in _records(n, seed)]  # fmt: skip


def sharegpt(n: int = 40, *, seed: int = 0) -> list[dict[str, Any]]:
    """ShareGPT ``conversations``: ``from`` human / gpt, ``value``."""
    return [{"conversations": [
        {"from": "human", "value": f"name[{name}] area[{area}]"},
        {"from": "gpt", "value": f"{name} is in the {area} ."},
    ]} for name, _, area in _records(n, seed)]  # fmt: skip


def prompt_completion(n: int = 40, *, seed: int = 0) -> list[dict[str, Any]]:
    """TRL's ``prompt`` / ``completion``."""
    return [{"prompt": f"name[{name}] food[{food}]", "completion": f"{name} serves {food} food ."}
            for name, food, _ in _records(n, seed)]  # fmt: skip


def alpaca(n: int = 40, *, seed: int = 0) -> list[dict[str, Any]]:
    """Alpaca's ``instruction`` / ``input`` / ``output`` (every other row without an input)."""
    return [{"instruction": "describe the restaurant", "input": f"name[{name}] food[{food}]" if i % 2 else "",
             "output": f"{name} serves {food} food ." if i % 2 else "The restaurant is nice ."}
            for i, (name, food, _) in enumerate(_records(n, seed))]  # fmt: skip


def plain_text(n: int = 40, *, seed: int = 0) -> list[dict[str, Any]]:
    """One ``text`` column (and an id): language modelling."""
    return [{"id": i, "text": f"{name} serves {food} food in the {area} ."}
            for i, (name, food, area) in enumerate(_records(n, seed))]  # fmt: skip


FORMATS = {"messages": messages, "sharegpt": sharegpt, "prompt-completion": prompt_completion, "alpaca": alpaca,
           "text": plain_text}  # fmt: skip
