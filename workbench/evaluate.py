"""Evaluate a prefix-tuned model on the validation split: loss plus the task metric.

Classifiers and taggers are scored from their logits; generative models
(causal LM, seq2seq) generate greedily for the first ``n_generate`` validation rows
and their text is read back as a label, a tag sequence or a sentence (see
:mod:`workbench.metrics`). Returns an :class:`EvalResult` with a few samples for
display, or None when a ``stop`` callable turned true before it finished (a Stop
press: the evaluation is abandoned within a generated token, not finished first).
The training loop calls this; it knows nothing about the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .data import Collator, EncodedSplit, TaskData
from .generate import generate_texts
from .metrics import (
    classification_metrics,
    parse_label,
    parse_tags,
    tagging_metrics,
    text_metrics,
)

__all__ = ["EvalResult", "evaluate"]


@dataclass
class EvalResult:
    """Validation loss, metrics (headline first) and a few (input, reference, output) samples."""

    loss: float
    metrics: dict[str, Any]
    samples: list[dict[str, str]] = field(default_factory=list)


@torch.no_grad()
def evaluate(
    model: Any,
    tokenizer: Any,
    task: str,
    data: TaskData,
    encoded: EncodedSplit,
    *,
    batch_size: int = 16,
    separator: str = "->",
    n_generate: int = 32,
    max_new_tokens: int = 48,
    autocast: Any = None,
    stop: Callable[[], bool] | None = None,
) -> EvalResult | None:
    """Loss over all of ``encoded``; metric from logits or from greedy generations (None if stopped)."""
    stopped = stop or (lambda: False)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    collate = Collator(tokenizer.pad_token_id)
    total, count = 0.0, 0
    preds: list[Any] = []
    try:
        for start in range(0, len(encoded), batch_size):
            if stopped():
                return None
            feats = encoded.features[start : start + batch_size]
            batch = {k: v.to(device) for k, v in collate(feats).items()}
            with autocast() if autocast else torch.autocast(device.type, enabled=False):
                out = model(**batch)
            total += float(out.loss) * len(feats)
            count += len(feats)
            if task == "seq-cls":
                preds += out.logits.argmax(-1).tolist()
            elif task == "token-cls":
                preds += _token_predictions(out.logits.argmax(-1), batch["labels"])
        metrics, samples = _metrics(model, tokenizer, task, data, preds, separator, n_generate, max_new_tokens,
                                    stop)  # fmt: skip
        if stopped():
            return None
    finally:
        model.train(was_training)
    return EvalResult(loss=total / max(count, 1), metrics=metrics, samples=samples)


def _token_predictions(pred: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    keep = labels != -100
    return [row[mask].tolist() for row, mask in zip(pred, keep)]


def _metrics(
    model: Any,
    tokenizer: Any,
    task: str,
    data: TaskData,
    preds: list[Any],
    separator: str,
    n_generate: int,
    max_new_tokens: int,
    stop: Callable[[], bool] | None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    names = data.label_names or []
    val = data.validation
    if task == "seq-cls":
        refs = list(val["label"])
        samples = [{"input": t, "reference": names[r], "output": names[p]}
                   for t, r, p in zip(val["text"][:3], refs[:3], preds[:3])]  # fmt: skip
        return classification_metrics(preds, refs), samples
    if task == "token-cls":
        refs = [[names[t] for t in tags] for tags in val["tags"]]
        pred_tags = [[names[t] for t in row] for row in preds]
        samples = [{"input": " ".join(w), "reference": " ".join(r), "output": " ".join(p)}
                   for w, r, p in zip(val["tokens"][:3], refs[:3], pred_tags[:3])]  # fmt: skip
        return tagging_metrics(pred_tags, refs), samples
    if n_generate == 0:
        return {}, []
    rows = [val[i] for i in range(min(n_generate, len(val)))]
    pairs = [data.render(r) for r in rows]
    outputs = generate_texts(
        model, tokenizer, [s for s, _ in pairs], task=task, separator=separator, max_new_tokens=max_new_tokens,
        stop=stop,
    )  # fmt: skip
    if len(outputs) < len(rows):  # stopped part-way; evaluate() drops the result
        return {}, []
    samples = [{"input": s, "reference": r, "output": o} for (s, r), o in zip(pairs[:3], outputs[:3])]
    if data.kind == "classification":
        pred_ids = [parse_label(o, names) for o in outputs]
        return classification_metrics(pred_ids, [r["label"] for r in rows]), samples
    if data.kind == "tagging":
        refs = [[names[t] for t in r["tags"]] for r in rows]
        pred_tags = [parse_tags(o, len(ref), names) for o, ref in zip(outputs, refs)]
        return tagging_metrics(pred_tags, refs), samples
    return text_metrics(outputs, [r for _, r in pairs], [s for s, _ in pairs]), samples
