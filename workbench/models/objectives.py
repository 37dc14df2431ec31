"""What a model is trained to output — text, or a head's labels, numbers or tags — as data.

An :class:`Objective` owns what differs between the ways a base model can learn: the
``AutoModelFor…`` class and PEFT task type, the head's settings, how rows become token
ids (:mod:`workbench.data.encode`), what a forward pass yields as predictions, how a
prompt is laid out for generation and for the attention probe. :func:`resolve_objective`
picks one from the model's architecture and the dataset's kind (a table): decoders
and encoder-decoders learn every kind as text; encoders get a classification,
regression or tagging head. Everything else asks the objective instead of comparing
names. Scoring lives with the data kinds (:mod:`workbench.data.kinds`). A *task* in
this workbench is one dataset of a multi-task mixture (:mod:`workbench.data.mixture`);
the one "task" left here is PEFT's ``TaskType`` (:attr:`Objective.peft_task`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from ..data.chat_template import chat_format
from ..data.conversations import Conversation
from ..data.encode import (
    IGNORE,
    EncodedSplit,
    encode_causal,
    encode_segments,
    encode_seq2seq,
    encode_texts,
    encode_words,
    format_prompt,
)
from ..errors import CompatibilityError

if TYPE_CHECKING:
    from ..data import TaskData

__all__ = [
    "FORMER_TASK",
    "HEAD_MODULES",
    "OBJECTIVES",
    "Objective",
    "as_objective",
    "is_head_parameter",
    "resolve_objective",
    "takes_former_task_keyword",
]

# The modules a head lives in (transformers' *ForSequenceClassification / *ForTokenClassification; PEFT trains them
# as modules_to_save beside the prefix).
HEAD_MODULES = ("classifier", "score")


def is_head_parameter(name: str) -> bool:
    """Is the parameter called ``name`` (as ``named_parameters`` gives it, PEFT-wrapped or not) part of a head?"""
    return any(part in HEAD_MODULES for part in name.split("."))


@dataclass(frozen=True)
class Objective:
    """One way to learn: ``generative`` objectives write the output as text, the others predict with a head."""

    name: str
    auto_class: str  # transformers' AutoModelFor… class
    peft_task: str  # PEFT's TaskType
    generative: bool
    # A decoder-only model generates by continuing "{source} {separator}" (padded on the left so every row
    # ends where it continues), its output following the prompt; an encoder-decoder reads the source and
    # writes anew in its decoder.
    decoder_only: bool = False
    # Heads: "label" (one class per text), "number" (one value per text) or "tags" (one class per word).
    head: str | None = None
    # transformers' loss family for this objective (LOSS_MAPPING), for models whose class name does not say it.
    loss_type: str | None = None

    def __str__(self) -> str:
        return self.name

    # -- model ----------------------------------------------------------------------------------

    def model_kwargs(self, label_names: list[str] | None) -> dict[str, Any]:
        """What ``from_pretrained`` needs for this head (nothing for generative objectives)."""
        if self.head == "number":
            return {"num_labels": 1, "problem_type": "regression"}
        if self.head in ("label", "tags"):
            if not label_names:
                raise CompatibilityError(f"a {self.name} model needs the dataset's label names")
            return {"num_labels": len(label_names), "id2label": dict(enumerate(label_names)),
                    "label2id": {n: i for i, n in enumerate(label_names)}}  # fmt: skip
        return {}

    # -- data -----------------------------------------------------------------------------------

    def encode(self, rows: Any, data: TaskData, tokenizer: Any, *, max_length: int, separator: str) -> EncodedSplit:
        """Token ids and labels for ``rows`` (a split of ``data``)."""
        if self.generative:
            layout = data.data_kind.layout
            if self.decoder_only and layout == "conversation":  # every reply learned, through the chat template
                chat = chat_format(tokenizer)
                return encode_segments([chat.segments(tokenizer, row["messages"]) for row in rows], tokenizer,
                                       max_length, add_special_tokens=chat.add_special_tokens)  # fmt: skip
            if self.decoder_only and layout == "whole":
                return encode_segments([[(row["text"], True)] for row in rows], tokenizer, max_length,
                                       add_special_tokens=True, end_with_eos=True)  # fmt: skip
            pairs = [data.render(row) for row in rows]
            if self.decoder_only:
                return encode_causal(pairs, tokenizer, max_length, separator)
            return encode_seq2seq([(self.prompt(tokenizer, s, separator), t) for s, t in pairs], tokenizer, max_length)
        if self.head == "tags":
            return encode_words(list(rows["tokens"]), list(rows["tags"]), tokenizer, max_length)
        labels = list(rows["label"])
        if self.head == "number":  # the head learns standardized targets; predictions are scaled back
            mean, std = data.target_stats or (0.0, 1.0)
            labels = [(y - mean) / std for y in labels]
        return encode_texts(list(rows["text"]), labels, tokenizer, max_length)

    def predictions(self, logits: torch.Tensor, labels: torch.Tensor, data: TaskData,
                    features: list[dict[str, Any]] | None = None) -> list[Any]:  # fmt: skip
        """A head's predictions for one batch, in the data kind's terms (label id, number, tag names).

        Tags: one per word of each row (``features``: the batch's encoded rows), ``O`` for a word that has no
        token to predict from (none at all, or cut off by truncation)."""
        if self.head == "label":
            return logits.argmax(-1).tolist()
        if self.head == "number":
            mean, std = data.target_stats or (0.0, 1.0)
            return (logits[:, 0].float() * std + mean).tolist()
        if self.head == "tags":
            names = data.label_names or []
            keep = labels != IGNORE  # first sub-token of each word
            found = [[names[t] for t in row[mask].tolist()] for row, mask in zip(logits.argmax(-1), keep)]
            if features is None:
                return found
            out = []
            for tags, feature in zip(found, features):
                row = ["O"] * feature["n_words"]
                for word, tag in zip(feature["words"], tags):
                    row[word] = tag
                out.append(row)
            return out
        raise TypeError(f"{self.name} generates its predictions; it has no head")

    # -- generation and probing -----------------------------------------------------------------

    def prompt(self, tokenizer: Any, source: str | Conversation, separator: str) -> str:
        """The text the model is given to produce the output of ``source``: a conversation through the chat
        template, up to the cue for the reply; a decoder's text followed by the separator."""
        if not isinstance(source, str):
            return chat_format(tokenizer).render(tokenizer, source, generation_prompt=True)
        return format_prompt(source, separator) if self.decoder_only else source

    def prompt_inputs(self, tokenizer: Any, sources: list[str | Conversation], separator: str) -> Any:
        """``sources`` as one padded batch of prompts (tensors), padded on the side generation needs."""
        texts = [self.prompt(tokenizer, s, separator) for s in sources]
        return tokenizer(texts, return_tensors="pt", padding=True, padding_side=self.padding_side,
                         add_special_tokens=_special_tokens(tokenizer, sources))  # fmt: skip

    def example(self, tokenizer: Any, source: str | Conversation, target: str, separator: str) -> str:
        """A decoder's whole text for (source, target), as it is learned: the prompt then the output."""
        if not isinstance(source, str):
            return chat_format(tokenizer).render(tokenizer, [*source, {"role": "assistant", "content": target}])
        prompt = format_prompt(source, separator)
        return f"{prompt} {target}" if prompt else target

    @property
    def padding_side(self) -> str:
        return "left" if self.decoder_only else "right"

    def probe_batch(self, tokenizer: Any, examples: list[tuple[str, str]], separator: str) -> tuple[
            dict[str, torch.Tensor], str]:  # fmt: skip
        """Inputs for the attention probe and the name of the mask over its query tokens."""
        specials = _special_tokens(tokenizer, [s for s, _ in examples])
        if self.decoder_only:
            texts = [self.example(tokenizer, s, t, separator) for s, t in examples]
            enc = tokenizer(texts, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=specials)
            return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, "attention_mask"
        sources = [self.prompt(tokenizer, s, separator) for s, _ in examples]
        enc = tokenizer(sources, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=specials)
        batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if not self.generative:
            return batch, "attention_mask"
        dec = tokenizer(text_target=[t for _, t in examples], return_tensors="pt", padding=True, padding_side="right")
        return {**batch, "decoder_input_ids": dec["input_ids"], "decoder_attention_mask": dec["attention_mask"]}, (
            "decoder_attention_mask")  # fmt: skip

    @property
    def probe_queries(self) -> str:
        """The input ids the probe's queries are: the decoder's for an encoder-decoder."""
        return "decoder_input_ids" if self.generative and not self.decoder_only else "input_ids"

    @property
    def attention_output(self) -> str:
        """Where the model's output keeps the attention maps that see the prefix."""
        return "decoder_attentions" if self.generative and not self.decoder_only else "attentions"


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("causal-lm", "AutoModelForCausalLM", "CAUSAL_LM", generative=True, decoder_only=True,
              loss_type="ForCausalLM"),
    Objective("seq2seq", "AutoModelForSeq2SeqLM", "SEQ_2_SEQ_LM", generative=True),
    Objective("seq-cls", "AutoModelForSequenceClassification", "SEQ_CLS", generative=False, head="label",
              loss_type="ForSequenceClassification"),
    Objective("seq-reg", "AutoModelForSequenceClassification", "SEQ_CLS", generative=False, head="number",
              loss_type="ForSequenceClassification"),
    Objective("token-cls", "AutoModelForTokenClassification", "TOKEN_CLS", generative=False, head="tags",
              loss_type="ForTokenClassification"),
)}  # fmt: skip

# (architecture, dataset kind) -> objective. Generative models learn every kind as text (the label word,
# the number, the tag sequence, a mixture of tasks); encoders need a head, one per kind.
_OBJECTIVE_TABLE: dict[tuple[str, str], str] = {
    **{
        ("decoder", kind): "causal-lm"
        for kind in ("text", "classification", "regression", "tagging", "mixture", "chat", "lm")
    },
    **{("seq2seq", kind): "seq2seq" for kind in ("text", "classification", "regression", "tagging", "mixture", "chat")},
    ("encoder", "classification"): "seq-cls",
    ("encoder", "regression"): "seq-reg",
    ("encoder", "tagging"): "token-cls",
}


def _special_tokens(tokenizer: Any, sources: list[str | Conversation]) -> bool:
    """Does the tokenizer add its special tokens to these prompts? Not to a conversation written by the model's own
    chat template, which holds them already."""
    return not sources or isinstance(sources[0], str) or chat_format(tokenizer).add_special_tokens


def as_objective(objective: Objective | str) -> Objective:
    """The objective itself, or the one named so (as run.json stores it)."""
    if isinstance(objective, Objective):
        return objective
    try:
        return OBJECTIVES[objective]
    except KeyError:
        raise ValueError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}") from None


def resolve_objective(architecture: str, dataset_kind: str) -> Objective:
    """The objective for a model architecture and a dataset kind, or a clear error."""
    try:
        return OBJECTIVES[_OBJECTIVE_TABLE[(architecture, dataset_kind)]]
    except KeyError:
        kinds = sorted(kind for arch, kind in _OBJECTIVE_TABLE if arch == architecture)
        article = "an" if architecture[0] in "aeiou" else "a"
        raise CompatibilityError(
            f"{article} {architecture} model cannot learn a {dataset_kind!r} dataset (it can learn: "
            f"{', '.join(kinds)}); for text generation or a mixture of tasks pick a decoder or seq2seq model"
        ) from None


_F = TypeVar("_F", bound=Callable[..., Any])


def takes_former_task_keyword(fn: _F) -> _F:
    """``fn(…, task=…)`` as it was called before the objective was named so (until 2026-12-03): the same call,
    with a DeprecationWarning."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if "task" in kwargs:
            warnings.warn(f"{fn.__name__}(task=…) is now {fn.__name__}(objective=…)", DeprecationWarning, stacklevel=2)
            kwargs["objective"] = kwargs.pop("task")
        return fn(*args, **kwargs)

    return call  # type: ignore[return-value]


class _FormerTask:
    """``x.task`` as it was read before the objective was named so: ``x.objective``, with a DeprecationWarning."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        name = type(obj).__name__
        warnings.warn(f"{name}.task is now {name}.objective", DeprecationWarning, stacklevel=2)
        return obj.objective


FORMER_TASK = _FormerTask()  # ``task = FORMER_TASK`` in a class that has an ``objective``
