"""A thin layer over PEFT's prefix tuning: build, initialise, count, and check first.

:func:`attach_prefix` turns :class:`PrefixSettings` into a ``PrefixTuningConfig``
and a frozen-base ``PeftModel``; ``init`` picks random, zero (PEFT's
``init_weights="zero"``) or a start written by :mod:`workbench.prefix_init` (the
base model's keys and values of a text or a training row, or drawn at each
layer's own scale; ``auto``, the default, lets that module choose); ``dropout``
adds the paper's prefix dropout, which PEFT lacks.
:func:`preflight` turns PEFT's known failure modes into plain findings before any
training starts. The PEFT model itself is used as it is; nothing here trains.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Literal

import torch
import torch.nn.functional as F
from peft import PeftModel, PrefixTuningConfig, get_peft_model

from .config import DataChoice, PrefixSettings
from .data import TaskData
from .data.chat_template import chat_format
from .data.coverage import tokenizer_coverage
from .errors import CompatibilityError
from .models import BUILTIN_MODELS, LoadedModel, quirks_for
from .models.objectives import HEAD_MODULES
from .models.sharing import LOADING
from .prefix_init import FROM_KV, initialize, resolve
from .process_state import seeded
from .quiet import quiet

__all__ = [
    "Finding",
    "ParameterCounts",
    "attach_prefix",
    "estimate_counts",
    "parameter_counts",
    "prefix_config",
    "preflight",
]

_POSITION_LIMIT_ATTRS = ("max_position_embeddings", "n_positions")
# Above this learning rate the projection MLP was not seen to learn (README, *Learning curves*); a flat prefix's
# default (TrainSettings.lr) is above it.
_PROJECTION_LR_LIMIT = 1e-2


@dataclass(frozen=True)
class Finding:
    """One result of the pre-flight check; ``error`` findings stop training."""

    level: Literal["error", "warning", "info"]
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


@dataclass(frozen=True)
class ParameterCounts:
    """Trainable parameters (prefix, projection MLP, head), what the adapter stores, and the base."""

    trainable: int
    stored: int
    base: int

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable / max(self.base, 1)


def prefix_config(loaded: LoadedModel, settings: PrefixSettings) -> PrefixTuningConfig:
    """The PEFT config for ``settings`` on ``loaded``'s objective; PEFT fills layers/heads/dims in."""
    return PrefixTuningConfig(
        task_type=loaded.objective.peft_task,
        num_virtual_tokens=settings.length,
        prefix_projection=settings.projection,
        encoder_hidden_size=settings.hidden_size,
        init_weights="zero" if settings.init == "zero" else None,
    )


def attach_prefix(
    loaded: LoadedModel,
    settings: PrefixSettings,
    *,
    seed: int | None = None,
    data: TaskData | None = None,
    choice: DataChoice | None = None,
) -> PeftModel:
    """Wrap the (frozen) base model with a fresh prefix, initialised as ``settings.init`` says.

    ``data`` and ``choice`` (the run's data and its settings): the training rows an ``example`` or ``matched``
    start reads; without them ``auto`` starts random.
    """
    has_rows = data is not None and choice is not None
    settings = replace(settings, init=resolve(settings, loaded.architecture, rows=has_rows))
    errors = [f for f in _settings_findings(loaded, settings) if f.level == "error"]
    if errors:
        raise CompatibilityError(errors[0].message)
    # new modules: not while another thread builds a model (see models.sharing); drawn from the seed when given
    with LOADING, quiet(), seeded(seed) if seed is not None else nullcontext():
        model = get_peft_model(loaded.model, prefix_config(loaded, settings))
    initialize(model, loaded, settings, data=data, choice=choice, seed=seed)
    if settings.dropout:
        _drop_while_training(model, settings.dropout)
    return model


def _drop_while_training(model: PeftModel, share: float) -> None:
    """Li & Liang's prefix dropout: while the prompt encoder trains, zero ``share`` of its output's entries.

    The encoder's output is every layer's keys and values, (batch, virtual tokens, layers * 2 * dim); each row of
    a batch draws its own mask, scaled by 1 / (1 - share) so that the whole prefix in evaluation matches on
    average. A hook, not a new module: the adapter PEFT saves and loads stays PEFT's own.
    """
    for encoder in model.prompt_encoder.values():
        encoder.register_forward_hook(lambda module, _inputs, out: F.dropout(out, share, module.training))


def parameter_counts(model: PeftModel) -> ParameterCounts:
    """Counts for a prefix-tuned model; ``stored`` is what ``save_pretrained`` writes."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    base = sum(p.numel() for p in model.get_base_model().parameters() if not p.requires_grad)
    cfg = model.active_peft_config
    stored = _stored_prefix(cfg)
    # modules_to_save (a classifier head) are stored too
    stored += sum(p.numel() for n, p in model.named_parameters() if p.requires_grad and "modules_to_save" in n)
    return ParameterCounts(trainable=trainable, stored=stored, base=base)


def _stored_prefix(cfg: PrefixTuningConfig) -> int:
    # What save_pretrained writes: one key and one value vector per slot and layer (after any projection).
    return cfg.num_virtual_tokens * cfg.num_layers * 2 * cfg.token_dim


def estimate_counts(loaded: LoadedModel, settings: PrefixSettings) -> ParameterCounts:
    """The counts :func:`attach_prefix` would give, without wrapping the model (instant, on meta tensors)."""
    from peft.tuners.prefix_tuning import PrefixEncoder
    from peft.utils.other import _prepare_prompt_learning_config

    cfg = _prepare_prompt_learning_config(prefix_config(loaded, settings), loaded.model.config.to_dict())
    with torch.device("meta"):
        prefix = sum(p.numel() for p in PrefixEncoder(cfg).parameters())
    # PEFT trains (and saves) a copy of the head of classification models.
    head = sum(
        p.numel()
        for name, module in loaded.model.named_children()
        if not loaded.objective.generative and name in HEAD_MODULES
        for p in module.parameters()
    )
    base = sum(p.numel() for p in loaded.model.parameters())
    stored = _stored_prefix(cfg) + head
    return ParameterCounts(trainable=prefix + head, stored=stored, base=base)


def preflight(
    loaded: LoadedModel,
    settings: PrefixSettings,
    *,
    max_length: int,
    want_attention: bool = False,
    data: TaskData | None = None,
    lr: float | None = None,
) -> list[Finding]:
    """Known failure modes of prefix tuning on this model (and ``data``, trained at ``lr``), as findings (errors
    first)."""
    config = loaded.model.config
    findings = list(_settings_findings(loaded, settings))
    if settings.projection and lr is not None and lr > _PROJECTION_LR_LIMIT:
        findings.append(Finding("warning", f"the projection MLP at lr {lr:g} may not learn: at 1e-1 it left "
                                           "SmolLM2's validation loss on E2E at 6.8 after 60 steps (a flat "
                                           "prefix: 1.4); it was measured at --lr 1e-3 (README, *Learning "
                                           "curves*)"))  # fmt: skip
    if data is not None:
        findings += [Finding("info", note) for note in data.notes] + _coverage_findings(loaded, data)
        findings += _chat_findings(loaded, data)
    # transformers 5 renamed is_gradient_checkpointing to is_activation_checkpointing
    checkpointing = getattr(loaded.model, "is_activation_checkpointing", None)
    if checkpointing is None:
        checkpointing = getattr(loaded.model, "is_gradient_checkpointing", False)
    if checkpointing:
        findings.append(Finding("error", "gradient checkpointing is on and fails with prefix tuning "
                                         "(peft#2191); call model.gradient_checkpointing_disable()"))  # fmt: skip
    limit = next((getattr(config, a) for a in _POSITION_LIMIT_ATTRS if getattr(config, a, None)), None)
    if limit and loaded.architecture == "decoder" and settings.length + max_length > limit:
        findings.append(
            Finding(
                "error",
                f"prefix length {settings.length} + max_length {max_length} exceeds the {limit} positions "
                f"{loaded.name} can take; allowed prefix length is 1-{max(limit - max_length, 0)}",
            )
        )
    quirks = quirks_for(config.model_type)
    window = getattr(config, quirks.sliding_window_attr, None) if quirks.sliding_window_attr else None
    window_on = quirks.sliding_window_switch is None or getattr(config, quirks.sliding_window_switch, False)
    if window and window_on and settings.length + max_length > window:
        # Gemma 2/3 alternate: their global layers (every other; every sixth in Gemma 3) see the whole prefix.
        kinds = list(getattr(config, "layer_types", None) or [])
        where = "" if "full_attention" not in kinds else (
            f" in the sliding-window layers ({kinds.count('sliding_attention')} of {len(kinds)}; the global ones "
            "still see it)")  # fmt: skip
        findings.append(
            Finding(
                "warning",
                f"{loaded.name} uses sliding-window attention ({window} positions): tokens after position "
                f"{window - settings.length} of the input cannot see the prefix{where}",
            )
        )
    if quirks.decoder_only_prefix or loaded.architecture == "seq2seq":
        findings.append(Finding("info", "encoder-decoder model: PEFT puts the prefix in the decoder's "
                                        "self-attention only; the encoder does not see it"))  # fmt: skip
    impl = getattr(config, "_attn_implementation", None)
    if want_attention and impl not in (None, "eager"):
        findings.append(Finding("info", f"attention maps need eager attention; the probe switches from "
                                        f"{impl} to eager for probing only, training keeps {impl}"))  # fmt: skip
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.level])


# Above this share of unknown tokens a prefix is being asked for what the model cannot read or write.
_UNKNOWN_WARN = 0.05


def _coverage_findings(loaded: LoadedModel, data: TaskData) -> list[Finding]:
    coverage = tokenizer_coverage(loaded.tokenizer, data)
    if coverage is None:
        return []
    sides = [("source", coverage.source_unknown)]
    if loaded.objective.generative:  # a head never writes the target
        sides.append(("target", coverage.target_unknown))
    return [
        Finding("warning", f"{share:.0%} of {side} tokens are unknown to {loaded.name}'s {coverage.vocabulary} "
                           f"(first {coverage.rows} rows); pick a model with a subword tokenizer for this data")
        for side, share in sides if share > _UNKNOWN_WARN
    ]  # fmt: skip


def _chat_findings(loaded: LoadedModel, data: TaskData) -> list[Finding]:
    if data.data_kind.layout != "conversation" or not loaded.objective.decoder_only:
        return []
    chat = chat_format(loaded.tokenizer)
    if chat.own:
        return [Finding("info", f"conversations are written with {loaded.name}'s own chat template; the loss falls "
                                "on the assistant's replies only")]  # fmt: skip
    return [Finding("warning", f"{loaded.name} has no chat template: conversations are written as plain "
                               "'role: text' lines, each reply closed by its end-of-sequence token; an instruct "
                               "model's own template is what it was taught")]  # fmt: skip


def _settings_findings(loaded: LoadedModel, settings: PrefixSettings) -> list[Finding]:
    out = []
    init = resolve(settings, loaded.architecture)
    if init in FROM_KV:
        if settings.projection:
            out.append(Finding("error", f"{init} init cannot be combined with projection: PEFT loads "
                                        "keys/values only into a flat prefix; use --no-projection"))  # fmt: skip
        if loaded.architecture != "decoder":
            out.append(Finding("error", f"{init} init needs a decoder model; {loaded.name} is an "
                                        f"{loaded.architecture} model (use random or zero init)"))  # fmt: skip
        if init == "text" and not settings.init_text.strip():
            out.append(Finding("error", "text init needs a text, e.g. --init text:'describe :'"))
    if loaded.architecture != "decoder" or loaded.name in BUILTIN_MODELS or settings.projection:
        return out
    # Measured (bench/curves.py, SmolLM2-135M, 150 steps of 8, three seeds; README, *Learning curves*).
    if init in ("random", "zero"):
        out.append(Finding("info", f"a flat {init} prefix starts far from the keys and values a pretrained model "
                                   "computes (SmolLM2's first validation loss: random 8.0, zero 3.9, matched 3.0); "
                                   "--init auto (matched) led on BANKING77 after 150 steps (34 vs 25 % at lr 3e-2) and "
                                   "was level on E2E; README, *Learning curves*"))  # fmt: skip
    elif init == "matched":
        out.append(Finding("info", "the prefix starts at each layer's own key/value scale (--init matched); on "
                                   "SmolLM2 a training row's keys and values (--init example) led it on BANKING77 "
                                   "at lr 3e-2 (40 vs 34 % after 150 steps; matched reaches 38 % at the default 1e-1), "
                                   "and words that describe the task are the other start to try (--init text:'<your "
                                   "task in a few words> :'); README, *Learning curves*"))  # fmt: skip
    return out
