"""Greedy generation from a prefix-tuned (or base) model, in batches.

Prompts are formatted exactly as in training (:meth:`workbench.models.objectives.Objective.prompt`):
a decoder continues ``"{source} {separator}"``, a seq2seq model reads the source, and a
conversation (a list of messages) is written with the model's chat template up to the cue
for the reply, which ends at the template's end-of-turn token.
Decoders are padded on the left for generation so that every row's next token
sits at the end; the prefix keys carry no position, so left padding leaves
greedy outputs unchanged (tested). Only the newly generated tokens are decoded.
With ``one_line`` a row also ends at its first newline, as the task's targets do
(:meth:`workbench.data.TaskData.one_line`): each new token is decoded as it comes, which works for
every vocabulary (transformers' ``stop_strings`` preprocess the vocabulary and refuse word-level ones).
A ``stop`` callable ends the work early (a Stop press during an evaluation): the
batch in flight ends at its next token and later batches are skipped. This module
neither trains nor loads models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase, StoppingCriteria, StoppingCriteriaList

from .data.chat_template import chat_format
from .data.conversations import Conversation
from .errors import CompatibilityError
from .models.objectives import Objective, as_objective, takes_former_task_keyword
from .models.sharing import running

__all__ = ["generate_texts", "stop_tokens"]


@torch.no_grad()
@takes_former_task_keyword
def generate_texts(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str | Conversation],
    *,
    objective: Objective | str,
    separator: str = "->",
    max_new_tokens: int = 48,
    batch_size: int = 16,
    use_prefix: bool = True,
    stop: Callable[[], bool] | None = None,
    one_line: bool = False,
    streamer: Any = None,
) -> list[str]:
    """Greedy continuations of ``prompts``; ``use_prefix=False`` asks the frozen base model.

    With ``stop``, fewer (and shorter) outputs come back once ``stop()`` is true; with ``one_line``
    each ends at its first newline. The tokenizer and the model are left as they were (padding is chosen
    per call). ``streamer``: a transformers streamer that sees the tokens as they come (one prompt at a time).
    """
    objective = as_objective(objective)
    if not objective.generative:
        raise CompatibilityError(
            f"a {objective} model writes no text to generate; generate from a decoder or seq2seq "
            "run (a classifier's or tagger's run: prefix-workbench evaluate --run DIR)"
        )
    # PeftModel.disable_adapter() runs the same weights without the prefix.
    context = model.disable_adapter() if not use_prefix and hasattr(model, "disable_adapter") else nullcontext()
    device = next(model.parameters()).device
    outputs: list[str] = []
    eos = stop_tokens(tokenizer, prompts)
    with running(model, training=False), context:
        for start in range(0, len(prompts), batch_size):
            if stop is not None and stop():
                break
            enc = objective.prompt_inputs(tokenizer, list(prompts[start : start + batch_size]), separator).to(device)
            ids = model.generate(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=eos,
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList(
                    ([_StopWhen(stop)] if stop else []) + ([_EndAtNewline(tokenizer)] if one_line else [])
                ),
            )
            if objective.decoder_only:
                ids = ids[:, enc["input_ids"].shape[1] :]
            texts = tokenizer.batch_decode(ids, skip_special_tokens=True)
            # A token that holds the newline may carry text after it; the line ends there.
            outputs += [(t.strip().split("\n")[0] if one_line else t).strip() for t in texts]
    return outputs


def stop_tokens(tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str | Conversation]) -> int | list[int]:
    """The token id(s) that end an output: end-of-sequence, and for conversations the template's end of turn."""
    chat = bool(prompts) and not isinstance(prompts[0], str)
    return chat_format(tokenizer).stop_ids(tokenizer) if chat else tokenizer.eos_token_id


class _EndAtNewline(StoppingCriteria):
    """Ends a row at the first newline that follows some text (the decoded output is cut there).

    Newlines before any text are not the end of the line but its start: a briefly trained prefix
    often opens with one, and ending there would turn every reply into an empty one.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer
        self.written: list[bool] | None = None  # per row: has any non-whitespace text come yet?

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        newest = self.tokenizer.batch_decode(input_ids[:, -1:])
        written = self.written or [False] * len(newest)
        ends = [("\n" in text) and (seen or bool(text.split("\n")[0].strip())) for text, seen in zip(newest, written)]
        self.written = [seen or bool(text.strip()) for text, seen in zip(newest, written)]
        return torch.tensor(ends, dtype=torch.bool, device=input_ids.device)


class _StopWhen(StoppingCriteria):
    """Ends every row at the next token once ``flag()`` is true."""

    def __init__(self, flag: Callable[[], bool]) -> None:
        self.flag = flag

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.flag(), dtype=torch.bool, device=input_ids.device)
