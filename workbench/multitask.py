"""Several tasks on one frozen base: one prefix on their mixture, or one prefix per task in one batch.

Li & Liang's §8 and P-Tuning v2 point two ways at many tasks: (a) train one prefix on
the mixture of tasks (:mod:`workbench.data.mixture`), or (b) train one small prefix per
task and serve them together, each row of a batch under its own task's prefix
(:class:`~workbench.prefix_bank.PrefixBank`). :func:`compare_multitask` does both with
the same settings and scores both on the same validation rows, task by task, with each
task's own metric; ``prefix-workbench multitask`` prints the table and notebook 05 shows
it. (b) trains ``steps`` per task, so it spends as many steps as there are tasks times
(a)'s; the table gives the training time of each. Decoders only (the bank's limit).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import RunConfig
from .data import TaskData
from .errors import CompatibilityError
from .evaluate import rank_or_write
from .history import Callback
from .prefix_bank import load_prefix_bank
from .ranking import rank_labels
from .run import Run

__all__ = ["MultitaskResult", "compare_multitask", "format_multitask_table"]


@dataclass
class MultitaskResult:
    """One way to serve the tasks: its trainable and stored size, training time, and per-task scores."""

    method: str
    prefixes: int
    trainable: int
    stored: int
    train_s: float
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_multitask(
    config: RunConfig,
    *,
    on_result: Callable[[MultitaskResult], None] | None = None,
    callbacks: Sequence[Callback] = (),
) -> list[MultitaskResult]:
    """(a) one prefix on ``config.data``'s mixture, (b) a prefix per task served in one batch; one result each.

    ``callbacks`` get every training run's events: the mixed prefix's, then each task's (steps count from 1 again).
    """
    if not config.data.mix:
        raise CompatibilityError("compare_multitask needs several datasets: set data.mix (CLI: repeat --dataset)")
    config = copy.deepcopy(config)
    config.train.eval_every = 0  # one evaluation each, at the end
    mixed = Run.create(config)
    if not mixed.objective.decoder_only:
        raise CompatibilityError(f"serving a prefix per task in one batch needs a decoder; {config.model.name} is "
                                 f"a {mixed.objective} model")  # fmt: skip
    data = mixed.data
    results = [_one_prefix(mixed, callbacks)]
    if on_result:
        on_result(results[0])
    results.append(_prefix_per_task(config, data, callbacks))
    if on_result:
        on_result(results[1])
    return results


def _one_prefix(run: Run, callbacks: Sequence[Callback]) -> MultitaskResult:
    start = time.perf_counter()
    run.train(callbacks)
    train_s = time.perf_counter() - start
    counts, evals = run.counts, run.history.evals
    # Training ends with an evaluation of the validation split; a run that ended early is evaluated here.
    final = evals[-1] if evals and evals[-1].step == run.history.last_step else run.evaluate()
    return MultitaskResult("one prefix, tasks mixed", 1, counts.trainable, counts.stored, train_s,
                           final.metrics)  # fmt: skip


def _prefix_per_task(config: RunConfig, data: TaskData, callbacks: Sequence[Callback]) -> MultitaskResult:
    trainable = stored = 0
    train_s = 0.0
    kind = data.data_kind
    with tempfile.TemporaryDirectory() as tmp:
        paths, runs = {}, {}
        for task, member in data.members.items():
            cfg = copy.deepcopy(config)
            cfg.data.name, cfg.data.mix, cfg.data.mark_tasks = member.name, [], False
            cfg.data.columns = cfg.data.columns if member.name == config.data.name else {}
            cfg.train.eval_generate = 0  # the bank scores these rows below, all tasks in one batch
            run = Run.create(cfg)
            start = time.perf_counter()
            run.train(callbacks)
            train_s += time.perf_counter() - start
            trainable, stored = trainable + run.counts.trainable, stored + run.counts.stored
            paths[task], runs[task] = str(run.export(Path(tmp) / task)), run
        # The rows the mixed prefix is scored on. Written outputs come from the bank, each row under its task's
        # prefix, all in one batch per chunk; a class is, as everywhere, the likeliest of its task's labels.
        rows = kind.scored_rows(data.validation, config.train.eval_generate)
        written, ranked = rank_or_write(data, rows, config.train.label_choice == "ranking")
        outputs = load_prefix_bank(list(paths.values())).generate(
            [_member_source(data, rows[i]) for i in written], [paths[rows[i]["task"]] for i in written],
            max_new_tokens=config.train.max_new_tokens,
        ) if written else []  # fmt: skip
    preds: list[Any] = [None] * len(rows)
    for i, text in zip(written, outputs):
        preds[i] = kind.read(text, rows[i], data)
    for names, members in ranked.items():
        for i in members:  # under its own task's prefix
            run = runs[rows[i]["task"]]
            choice = rank_labels(run.live_model, run.tokenizer, run.objective, [_member_source(data, rows[i])], names,
                                 separator=config.data.separator)  # fmt: skip
            preds[i] = choice[0] if choice else None
    metrics = kind.score(preds, rows, data, generated=bool(written), pool=data.validation)
    return MultitaskResult("one prefix per task, one batch", len(paths), trainable, stored, train_s, metrics)


def _member_source(data: TaskData, row: dict[str, Any]) -> str:
    member = data.members[row["task"]]
    return member.render(member.split(row["split"])[row["row"]])[0]  # unmarked: each prefix knows its task


def format_multitask_table(results: list[MultitaskResult], data: TaskData) -> str:
    """A plain-text table: one row per way, one column per task's headline metric, then task_mean."""
    columns = [f"{task}/{member.metric}" for task, member in data.members.items()] + ["task_mean"]
    head = f"{'method':<34}{'prefixes':>9}{'trainable':>11}{'stored':>10}{'train s':>9}" + "".join(
        f"{c:>{max(len(c), 8) + 2}}" for c in columns
    )
    lines = [head, "-" * len(head)]
    for r in results:
        cells = "".join(f"{r.metrics.get(c, float('nan')):>{max(len(c), 8) + 2}.3f}" for c in columns)
        lines.append(f"{r.method:<34}{r.prefixes:>9}{r.trainable:>11,}{r.stored:>10,}{r.train_s:>9.1f}{cells}")
    return "\n".join(lines)
