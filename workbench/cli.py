"""The ``prefix-workbench`` command line: the notebook's runs, headless.

Subcommands: ``train`` (create a run, train with a progress bar, export the run
directory), ``evaluate`` (score an exported run on a split, with a per-label report),
``generate`` (greedy outputs from an exported run), ``compare`` (prefix tuning against
other methods), ``models`` and ``datasets`` (what is built in and curated). Flags map one-to-one onto
:class:`~workbench.config.RunConfig`; ``--config run.json`` loads saved settings
first. Any :class:`~workbench.errors.WorkbenchError` ends the command with one line
on stderr and exit status 2, never a traceback. The CLI holds no training logic.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .config import (
    DATA_KIND_CHOICES,
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    METRIC_CHOICES,
    SAMPLING,
    RunConfig,
    parse_columns,
)
from .errors import ConfigError, WorkbenchError, WriteError

__all__ = ["build_parser", "main"]

EXIT_USAGE = 2  # bad input: a one-line message, nothing half-written
EXIT_STOPPED = 130  # interrupted (Ctrl-C / SIGTERM); the run directory is still written
EXIT_DIVERGED = 3  # non-finite loss; the last good prefix is written
EXIT_WRITE = 4  # the disk refused the run directory; a rescue copy of the prefix is written elsewhere


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the error; one line is enough, --help has the rest.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="prefix-workbench", description="Prefix-tune language models (PEFT), headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a prefix and export the run directory")
    train.add_argument("--config", help="start from the settings in a run.json or config JSON file")
    train.add_argument("--model", help=f"built-in name, hub id or local path (default {DEFAULT_MODEL})")
    train.add_argument("--dataset", action="append",
                       help=f"built-in name, hub id or .csv/.json/.jsonl file (default {DEFAULT_DATASET}); "
                            "repeat it to train one prefix on several tasks")  # fmt: skip
    train.add_argument("--sampling", choices=SAMPLING, help="several tasks: rows in proportion to size, or balanced")
    train.add_argument("--mark-tasks", action="store_true", default=None,
                       help='several tasks: start each source with "{task} :"')  # fmt: skip
    train.add_argument("--subset", help="hub dataset configuration, e.g. sst2 for nyu-mll/glue")
    train.add_argument("--column", action="append", default=[], metavar="ROLE=COLUMN",
                       help="map a dataset column to a role (source, target, text, label, tokens, tags)")  # fmt: skip
    train.add_argument(
        "--kind",
        choices=DATA_KIND_CHOICES,
        help="what the data is when its columns leave it open (regression for whole-number targets)",
    )
    train.add_argument("--metric", help=f"headline metric: {', '.join(METRIC_CHOICES)} (default: the data's)")
    train.add_argument("--test-fraction", type=float, help="hold out this share of a file as a test split")
    train.add_argument("--max-train-examples", type=int)
    train.add_argument("--max-length", type=int)
    train.add_argument("--prefix-length", type=int)
    train.add_argument("--projection", action=argparse.BooleanOptionalAction, default=None,
                       help="reparametrize the prefix through an MLP while training")  # fmt: skip
    train.add_argument("--hidden-size", type=int, help="hidden size of the projection MLP")
    train.add_argument("--init", help='random, zero, or text:"words" (the base model\'s keys/values of the words)')
    train.add_argument("--steps", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--grad-accum", type=int)
    train.add_argument("--warmup-steps", type=int)
    train.add_argument("--eval-every", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"])
    train.add_argument("--out", help="run directory to write (default runs/<model>-<dataset>-<time>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    train.add_argument(
        "--checkpoint-every", type=int, help="rewrite the run directory with resumable state every N steps"
    )
    train.add_argument(
        "--resume", metavar="DIR", help="continue the run in DIR from its checkpoint (--steps to extend)"
    )
    train.add_argument("--trust-remote-code", action="store_true", help="run code shipped with a hub model")

    ev = sub.add_parser("evaluate", help="score an exported run on a split: metrics, per-label report, figure")
    ev.add_argument("--run", required=True, help="run directory written by `train`")
    ev.add_argument("--dataset", help="another dataset to score it on (default: the run's)")
    ev.add_argument("--column", action="append", default=[], metavar="ROLE=COLUMN", help="as for train")
    ev.add_argument("--split", default="test", choices=["train", "validation", "test"])
    ev.add_argument("--test-fraction", type=float, help="hold out this share of a file as the test split")
    ev.add_argument("--metric", help="headline metric (default: the run's)")

    gen = sub.add_parser("generate", help="greedy outputs from an exported run")
    gen.add_argument("--run", action="append", required=True, help="run directory written by `train` (repeatable)")
    gen.add_argument("--prompt", action="append", default=[], help="a source text (repeatable)")
    gen.add_argument("--prompts", help='JSONL file of rows {"prompt": ..., "run": ...}: one batch, a prefix per row')
    gen.add_argument("--max-new-tokens", type=int, default=None)
    gen.add_argument("--no-prefix", action="store_true", help="ask the frozen base model instead")

    cmp = sub.add_parser(
        "compare",
        help="prefix lengths, projection, prompt tuning, LoRA and full fine-tuning "
        "on the same data and budget: a table and a chart",
    )
    cmp.add_argument("--model", default=None, help=f"default {DEFAULT_MODEL}")
    cmp.add_argument("--dataset", default=None, help=f"default {DEFAULT_DATASET}")
    cmp.add_argument("--steps", type=int, default=200)
    cmp.add_argument("--batch-size", type=int, default=None)
    cmp.add_argument("--seed", type=int, default=0)
    cmp.add_argument("--only", action="append", default=[], help="run only the method with this label (repeatable)")
    cmp.add_argument("--out", default="runs/compare", help="folder for compare.json and compare.html")

    mt = sub.add_parser("multitask", help="several tasks: one prefix on their mixture vs one prefix per task in "
                                          "one batch, scored task by task")  # fmt: skip
    mt.add_argument("--model", default=None, help=f"a decoder (default {DEFAULT_MODEL})")
    mt.add_argument("--dataset", action="append", required=True, help="a task's dataset (give two or more)")
    mt.add_argument("--steps", type=int, default=200, help="steps of the mixed prefix, and of each per-task prefix")
    mt.add_argument("--sampling", choices=SAMPLING, default="proportional")
    mt.add_argument("--mark-tasks", action="store_true")
    mt.add_argument("--seed", type=int, default=0)
    mt.add_argument("--out", default="runs/multitask", help="folder for multitask.json")

    sub.add_parser("models", help="list built-in models and curated hub ids")
    sub.add_parser("datasets", help="list built-in datasets and curated hub ids")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"train": _train, "evaluate": _evaluate, "generate": _generate, "compare": _compare,
                    "multitask": _multitask, "models": _models, "datasets": _datasets}  # fmt: skip
        return commands[args.command](args)
    except WorkbenchError as exc:
        print(f"prefix-workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Settings from ``--config`` (if any) overridden by the flags given."""
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError(f"config file {args.config!r} does not exist")
        data = json.loads(path.read_text(encoding="utf-8"))
        cfg = RunConfig.from_dict(data.get("config", data))  # a run.json holds it under "config"
    else:
        cfg = RunConfig()
    flags = {
        ("model", "name"): args.model,
        ("model", "trust_remote_code"): args.trust_remote_code or None,
        ("data", "name"): args.dataset[0] if args.dataset else None,
        ("data", "mix"): args.dataset[1:] if args.dataset else None,
        ("data", "sampling"): args.sampling,
        ("data", "mark_tasks"): args.mark_tasks,
        ("data", "subset"): args.subset,
        ("data", "max_train_examples"): args.max_train_examples,
        ("data", "max_length"): args.max_length,
        ("data", "kind"): args.kind,
        ("data", "metric"): args.metric,
        ("data", "test_fraction"): args.test_fraction,
        ("prefix", "length"): args.prefix_length,
        ("prefix", "projection"): args.projection,
        ("prefix", "hidden_size"): args.hidden_size,
        ("train", "steps"): args.steps,
        ("train", "lr"): args.lr,
        ("train", "batch_size"): args.batch_size,
        ("train", "grad_accum"): args.grad_accum,
        ("train", "warmup_steps"): args.warmup_steps,
        ("train", "eval_every"): args.eval_every,
        ("train", "seed"): args.seed,
        ("train", "device"): args.device,
        ("train", "precision"): args.precision,
        ("train", "checkpoint_every"): args.checkpoint_every,
    }
    for (section, name), value in flags.items():
        if value is not None:
            setattr(getattr(cfg, section), name, value)
    cfg.data.columns.update(parse_columns(args.column))
    if args.init is not None:
        kind, _, text = args.init.partition(":")
        if kind not in ("random", "zero", "text") or (kind != "text" and text):
            raise ConfigError(f'--init is {args.init!r}; use random, zero or text:"some words"')
        cfg.prefix.init, cfg.prefix.init_text = kind, text.strip().strip("'\"") if kind == "text" else ""
    return cfg.validate()


def _train(args: argparse.Namespace) -> int:
    # Settings are checked before torch and friends are imported: a typo answers at once.
    cfg = None if args.resume else config_from_args(args)
    from tqdm.auto import tqdm

    from .history import EndEvent, EvalEvent, Event, StepEvent
    from .report import report_text
    from .run import Run

    if cfg is None:
        out = Path(args.out or args.resume)
        if out != Path(args.resume) and out.exists() and not args.overwrite:
            raise ConfigError(f"run directory {str(out)!r} already exists; pass --overwrite or choose another --out")
        args.overwrite = True  # a resumed run rewrites its own directory
        run = Run.resume(args.resume, steps=args.steps)
        cfg = run.config
        if run.trainer.step >= cfg.train.steps:
            raise ConfigError(f"{args.resume!r} is already at step {run.trainer.step} of {cfg.train.steps}; "
                              "pass --steps N to train on to a larger total")  # fmt: skip
        print(f"resuming at step {run.trainer.step} of {cfg.train.steps} ({args.resume})")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(args.out or f"runs/{Path(cfg.model.name).name}-{Path(cfg.data.name).stem}-{stamp}")
        if out.exists() and not args.overwrite:
            raise ConfigError(f"run directory {str(out)!r} already exists; pass --overwrite or choose another --out")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            run = Run.create(cfg)
    for finding in run.findings:
        print(f"  {finding}", file=sys.stderr)
    counts = run.counts
    print(
        f"{cfg.model.name} ({run.task}) on {cfg.data.name}: prefix {cfg.prefix.length} tokens, {counts.trainable:,} "
        f"trainable of {counts.base:,} base parameters ({counts.trainable_percent:.2f}%)"
    )
    headline = run.metric
    bar = tqdm(total=cfg.train.steps, initial=run.history.last_step, desc="train", unit="step", dynamic_ncols=True)

    def show(event: Event) -> None:
        if isinstance(event, StepEvent):
            bar.update(event.step - bar.n)
            bar.set_postfix(loss=f"{event.loss:.3f}", tok_s=f"{event.tokens_per_s:,.0f}", refresh=False)
        elif isinstance(event, EvalEvent):
            metric = event.metrics.get(headline)
            extra = f", {headline} {metric:.3f}" if isinstance(metric, int | float) else ""
            bar.write(f"step {event.step}: validation loss {event.loss:.3f}{extra}")
        elif isinstance(event, EndEvent) and event.message:
            bar.write(event.message)

    try:
        history = run.train([show], checkpoint_to=out)
    finally:
        bar.close()
    if not run.trainer.accelerator.is_main_process:
        return 0  # under `accelerate launch`, one process writes the run
    if run.checkpoint_problem:
        print(f"prefix-workbench: warning: a checkpoint was not written ({run.checkpoint_problem})", file=sys.stderr)
    # `out` was checked to be new (or --overwrite given) before training; checkpoints may have written it since.
    try:
        path = run.export(out, overwrite=True)
    except WriteError as exc:
        return _rescued(run, out, exc)
    end = history.ends[-1]
    if run.test is not None:
        print(report_text(run.test, split="test", name=cfg.data.name))
    print(f"{end.reason} after {end.step} steps in {end.elapsed_s:.1f} s; run written to {path}")
    return {"completed": 0, "stopped": EXIT_STOPPED, "non-finite": EXIT_DIVERGED}[end.reason]


def _rescued(run: Any, out: Path, exc: WriteError) -> int:
    """The run directory could not be written: keep the trained prefix elsewhere and say where, in one line."""
    copy = run.rescue(out.name)
    if copy is None:
        where = "and no other place (the cache, the temporary folder, /dev/shm) took a copy either"
    else:
        size = sum(f.stat().st_size for f in copy.rglob("*") if f.is_file()) / 1024
        where = f"the trained prefix is saved in {copy} ({size:,.0f} kB): move it there with `mv {copy} {out}`"
    print(f"prefix-workbench: error: {exc}; {where}", file=sys.stderr)
    return EXIT_WRITE


def _evaluate(args: argparse.Namespace) -> int:
    from .report import report_text, save_report
    from .run import Run

    run = Run.load(args.run)
    choice = copy.deepcopy(run.config.data)
    if args.dataset:
        choice.name, choice.columns, choice.subset = args.dataset, {}, None
    choice.columns.update(parse_columns(args.column))
    choice.test_fraction = args.test_fraction if args.test_fraction is not None else choice.test_fraction
    choice.metric = args.metric or choice.metric
    RunConfig(data=choice).validate()
    data = run.load_data(choice)
    result = run.evaluate(args.split, data=data, report=True)
    print(report_text(result, split=args.split, name=choice.name))
    written = save_report(result, args.run, split=args.split)
    print("wrote " + " and ".join(str(p) for p in written))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .run import Run

    rows = [(p, args.run[0]) for p in args.prompt] + (_read_rows(args.prompts, args.run) if args.prompts else [])
    if not rows:
        raise ConfigError("give at least one --prompt, or a --prompts file")
    if len(args.run) == 1:
        run = Run.load(args.run[0])
        outputs = run.generate([p for p, _ in rows], use_prefix=not args.no_prefix, max_new_tokens=args.max_new_tokens)
    else:
        from .prefix_bank import PrefixBank

        if args.no_prefix:
            raise ConfigError("--no-prefix takes a single --run")
        bank = PrefixBank.from_runs(args.run)
        outputs = bank.generate([p for p, _ in rows], [r for _, r in rows], max_new_tokens=args.max_new_tokens or 48)
    for output in outputs:
        print(output)
    return 0


def _read_rows(path: str, runs: list[str]) -> list[tuple[str, str]]:
    """(prompt, run) pairs from a JSONL file; ``run`` may be left out when there is only one --run."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"prompts file {path!r} does not exist")
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prompt, run = row["prompt"], row.get("run", runs[0] if len(runs) == 1 else None)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise ConfigError(f'{path}:{number} is not a row {{"prompt": "...", "run": "..."}}') from None
        if run not in runs:
            raise ConfigError(f"{path}:{number} names run {run!r}, which is not one of the --run directories")
        rows.append((str(prompt), str(run)))
    return rows


def _models(args: argparse.Namespace) -> int:
    from .models import BUILTIN_MODELS, CURATED_MODELS

    _listing([(name, spec.description) for name, spec in BUILTIN_MODELS.items()], list(CURATED_MODELS.items()))
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from .data import BUILTIN_DATASETS, CURATED_DATASETS

    _listing(
        [(name, f"{spec.kind:<15} {spec.description}") for name, spec in BUILTIN_DATASETS.items()],
        [(name, f"{spec['kind']:<15} {spec['description']}") for name, spec in CURATED_DATASETS.items()],
    )
    print("local files: .csv, .json, .jsonl with columns source+target, text+label or tokens+tags (or --column);")
    print("  a label column of decimals is a regression target (--kind regression for whole numbers);")
    print("  repeat --dataset (or map a task column) to train one prefix on several tasks")
    return 0


def _listing(builtin: list[tuple[str, str]], curated: list[tuple[str, str]]) -> None:
    for title, rows in (("built-in (offline):", builtin), ("curated hub ids (downloaded on first use):", curated)):
        print(title)
        width = max(len(name) for name, _ in rows) + 2
        for name, text in rows:
            print(f"  {name:<{width}}{text}")


def _compare(args: argparse.Namespace) -> int:
    from .compare import DEFAULT_METHODS, compare, format_table
    from .plots import comparison_figure

    cfg = RunConfig()
    cfg.model.name = args.model or cfg.model.name
    cfg.data.name = args.dataset or cfg.data.name
    cfg.train.steps, cfg.train.seed = args.steps, args.seed
    cfg.train.batch_size = args.batch_size or cfg.train.batch_size
    cfg.validate()
    methods = [m for m in DEFAULT_METHODS if not args.only or m.label in args.only]
    if not methods:
        labels = ", ".join(m.label for m in DEFAULT_METHODS)
        raise ConfigError(f"--only {args.only} matches no method; labels: {labels}")
    results = compare(cfg, methods, on_result=lambda r: print(format_table([r]).splitlines()[-1], flush=True))
    print(format_table(results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
    comparison_figure(results).write_html(out / "compare.html", include_plotlyjs="cdn")
    print(f"wrote {out / 'compare.json'} and {out / 'compare.html'}")
    return 0


def _multitask(args: argparse.Namespace) -> int:
    from .multitask import compare_multitask, format_multitask_table

    if len(args.dataset) < 2:
        raise ConfigError("give two or more --dataset, one per task")
    cfg = RunConfig()
    cfg.model.name = args.model or cfg.model.name
    cfg.data.name, cfg.data.mix = args.dataset[0], args.dataset[1:]
    cfg.data.sampling, cfg.data.mark_tasks = args.sampling, args.mark_tasks
    cfg.train.steps, cfg.train.seed, cfg.train.eval_every = args.steps, args.seed, 0
    cfg.validate()
    results = compare_multitask(cfg, on_result=lambda r: print(f"{r.method}: {r.metrics}", flush=True))
    from .data import load_task_data

    print(format_multitask_table(results, load_task_data(cfg.data, seed=cfg.train.seed)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "multitask.json").write_text(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
    print(f"wrote {out / 'multitask.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
