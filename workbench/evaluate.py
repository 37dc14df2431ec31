"""Evaluate a prefix-tuned model on one split: loss plus the task's metrics.

Heads (classification, regression, tagging) are scored from their logits over the
whole split; generative models (causal LM, seq2seq) generate greedily for the first
``n_generate`` rows, and the data kind reads each text back as a label, a number, a
tag sequence or a sentence (:mod:`workbench.data.kinds`) — except a class, which by
default is the likeliest label (:mod:`workbench.ranking`). Language modelling is scored by
its loss (perplexity). Returns an
:class:`EvalResult` with the headline metric first, a few samples for display and the
predictions (for reports), or None when a ``stop`` callable turned true before it
finished (a Stop press: the evaluation is abandoned within a generated token, not
finished first). The training loop calls this; it knows nothing about the loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .config import TrainSettings
from .data import Collator, EncodedSplit, TaskData
from .data.batching import shortest_first
from .data.conversations import show_source
from .generate import generate_texts
from .loss import batch_loss, row_losses
from .models.objectives import Objective, as_objective
from .models.sharing import running
from .ranking import rank_labels

__all__ = ["EvalResult", "evaluate", "evaluate_with", "rank_or_write"]


@dataclass
class EvalResult:
    """Loss, metrics (headline first), a few (input, reference, output) samples, and every prediction.

    ``metrics`` holds numbers only (a mixture's per-task ones as ``task/metric``); structures — per-label
    precision/recall, a confusion matrix, per-entity-type scores — are ``report``'s, filled when asked for.
    ``predictions[i]`` belongs to ``rows[i]``.
    ``references``: how many reference rows the generated ``rows`` were scored against (more than
    ``len(rows)`` when a record has several references, as in E2E: ``rows`` then holds one row a record).
    ``row_losses``: each encoded row's own loss, in order (NaN where it learns nothing), when asked for.
    """

    loss: float
    metrics: dict[str, float]
    samples: list[dict[str, str]] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list, repr=False)
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    report: dict[str, Any] = field(default_factory=dict, repr=False)
    references: int = 0
    row_losses: list[float] = field(default_factory=list, repr=False)


@torch.no_grad()
def evaluate(
    model: Any,
    tokenizer: Any,
    objective: Objective | str,
    data: TaskData,
    encoded: EncodedSplit,
    *,
    split: str = "validation",
    batch_size: int = 16,
    separator: str = "->",
    n_generate: int = 32,
    max_new_tokens: int = 48,
    autocast: Any = None,
    stop: Callable[[], bool] | None = None,
    report: bool = False,
    rank: bool = True,
    per_row: bool = False,
) -> EvalResult | None:
    """Loss over all of ``encoded`` (``split`` of ``data``, in batches of alike length); metrics from logits or
    greedy generations.

    None if ``stop`` turned true on the way. ``report`` adds the kind's per-label detail. ``rank``: a generative
    model's class is the likeliest label (:mod:`workbench.ranking`), not the one read in generated text.
    ``per_row``: also each row's own loss (``row_losses``), from the same forward passes.
    """
    objective = as_objective(objective)
    stopped = stop or (lambda: False)
    device = next(model.parameters()).device
    collate = Collator(tokenizer.pad_token_id)
    total, count = 0.0, 0
    preds: list[Any] = [None] * len(encoded) if not objective.generative else []
    losses = [math.nan] * len(encoded) if per_row else []
    # Shortest rows first: a batch of alike lengths carries little padding; predictions go back to their rows.
    lengths = [len(f["input_ids"]) for f in encoded.features]
    with running(model, training=False):
        for rows in shortest_first(lengths, batch_size):
            if stopped():
                return None
            feats = [encoded.features[i] for i in rows]
            batch = {k: v.to(device) for k, v in collate(feats).items()}
            with autocast() if autocast else torch.autocast(device.type, enabled=False):
                # A generative model's loss alone (a decoder's logits where a token is learned); a head's output.
                out = None if objective.generative else model(**batch)
                if per_row:
                    sums, counts = row_losses(model, batch, objective, out)
                    loss = sums.sum() / counts.sum()
                    for i, total_i, n in zip(rows, sums.tolist(), counts.tolist()):
                        losses[i] = total_i / n if n else math.nan
                else:
                    loss = batch_loss(model, batch, objective) if out is None else out.loss
                if out is not None:
                    for i, pred in zip(rows, objective.predictions(out.logits, batch["labels"], data, feats)):
                        preds[i] = pred
            total += float(loss) * len(feats)
            count += len(feats)
        result = _score(model, tokenizer, objective, data, data.split(split), preds, separator, n_generate,
                        max_new_tokens, stop, report, rank)  # fmt: skip
        if result is None or stopped():
            return None
    result.loss, result.row_losses = total / max(count, 1), losses
    result.metrics = {**data.data_kind.loss_metrics(result.loss), **result.metrics}
    return result


def evaluate_with(
    settings: TrainSettings,
    model: Any,
    tokenizer: Any,
    objective: Objective | str,
    data: TaskData,
    encoded: EncodedSplit,
    *,
    separator: str,
    split: str = "validation",
    autocast: Any = None,
    stop: Callable[[], bool] | None = None,
    report: bool = False,
) -> EvalResult | None:
    """:func:`evaluate` with a run's batch size, generated rows and generation length."""
    return evaluate(
        model, tokenizer, objective, data, encoded, split=split, batch_size=settings.batch_size, separator=separator,
        n_generate=settings.eval_generate, max_new_tokens=settings.max_new_tokens, autocast=autocast, stop=stop,
        report=report, rank=settings.label_choice == "ranking",
    )  # fmt: skip


def rank_or_write(data: TaskData, rows: Sequence[Mapping[str, Any]],
                  rank: bool) -> tuple[list[int], dict[tuple[str, ...], list[int]]]:  # fmt: skip
    """Which of ``rows`` a generative model writes out (their indices), and which it ranks, grouped by the labels they
    choose among (a classification task's, alone or in a mixture: :meth:`DataKind.label_choices`); with ``rank``
    off, every row is written."""
    written: list[int] = []
    ranked: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        names = data.data_kind.label_choices(row, data) if rank else None
        if names is None:
            written.append(i)
        else:
            ranked.setdefault(tuple(names), []).append(i)
    return written, ranked


def _predict(model: Any, tokenizer: Any, objective: Objective, data: TaskData, rows: list[dict[str, Any]],
             separator: str, max_new_tokens: int, stop: Callable[[], bool] | None,
             rank: bool) -> tuple[list[Any], list[str], bool] | None:  # fmt: skip
    """A generative model's prediction for each row and what it showed: the likeliest of the row's labels where it
    has some and ``rank`` is on (a classification task, alone or in a mixture), else read back from its greedy
    output; and whether any row was written. None when ``stop`` ended it part-way."""
    kind = data.data_kind
    sources = [data.render(row)[0] for row in rows]
    written, ranked = rank_or_write(data, rows, rank)
    preds: list[Any] = [None] * len(rows)
    shown = [""] * len(rows)
    if written:
        outputs = generate_texts(model, tokenizer, [sources[i] for i in written], objective=objective,
                                 separator=separator, max_new_tokens=max_new_tokens, stop=stop,
                                 one_line=data.one_line())  # fmt: skip
        if len(outputs) < len(written):
            return None
        for i, text in zip(written, outputs):
            preds[i], shown[i] = kind.read(text, rows[i], data), text
    for names, members in ranked.items():  # rows choosing among the same labels are ranked together
        ids = rank_labels(model, tokenizer, objective, [sources[i] for i in members], names, separator=separator,
                          stop=stop)  # fmt: skip
        if ids is None:
            return None
        for i, choice in zip(members, ids):
            preds[i], shown[i] = choice, names[choice]
    return preds, shown, bool(written)


def _score(
    model: Any,
    tokenizer: Any,
    objective: Objective,
    data: TaskData,
    split: Any,
    preds: list[Any],
    separator: str,
    n_generate: int,
    max_new_tokens: int,
    stop: Callable[[], bool] | None,
    report: bool,
    rank: bool,
) -> EvalResult | None:
    kind = data.data_kind
    written = False
    if objective.generative:
        if n_generate == 0 or not kind.generates:
            return EvalResult(0.0, {})
        rows = kind.scored_rows(split, n_generate)  # one row a record: its other references come from the split
        predicted = _predict(model, tokenizer, objective, data, rows, separator, max_new_tokens, stop, rank)
        if predicted is None:  # stopped part-way; evaluate() drops the result
            return None
        preds, shown, written = predicted
    else:
        rows = list(split)
        shown = [kind.show(p, row, data) for p, row in zip(preds, rows)]
    # The whole split goes along: text metrics gather every reference of a source from it.
    metrics = kind.score(preds, rows, data, generated=written, pool=split)
    # "prompt": what the model was given (a chat row's conversation), for asking the base model the same.
    samples = [{"input": show_source(source), "reference": reference, "output": o, "prompt": source}
               for (source, reference), o in zip(map(data.render, rows[:3]), shown[:3])]  # fmt: skip
    detail = kind.report(preds, rows, data) if report else {}
    references = len(rows)
    if objective.generative and kind.group_role is not None:
        references = sum(len(refs) for refs in kind.references(rows, split))
    return EvalResult(0.0, metrics, samples, preds, rows, detail, references)
