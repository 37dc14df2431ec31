"""Load a base model and its tokenizer for an objective, by built-in name, packaged name, GGUF file, path or hub id.

One ``from_pretrained`` path serves them all: a built-in name is first materialized
as a model directory (:mod:`.builtin`), a packaged model (``smollm2-135m``) resolves to
its fetched copy or its hub id (:mod:`.fetch`), a ``.gguf`` file to the folder it was
converted into once (:mod:`.gguf`), a local directory is used as it is, anything else
is treated as a hub id. The objective (causal LM, seq2seq,
sequence or token classification) follows from the model's architecture and the
dataset's kind. Failures become one-line :class:`ModelLoadError` messages naming
what was tried. This module does not attach prefixes (:mod:`workbench.prefix`).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transformers
from transformers import (
    AutoConfig,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from ..config import ModelChoice
from ..errors import ModelLoadError, one_line
from ..hub import hub_reachable, hub_timeouts, offline_reason
from ..process_state import held_verbosity, seeded
from ..quiet import quiet
from .builtin import builtin_path
from .fetch import packaged_path
from .gguf import gguf_folder, is_gguf
from .objectives import FORMER_TASK, Objective, resolve_objective
from .registry import BUILTIN_MODELS, PACKAGED_MODELS, Architecture, architecture_of
from .sharing import LOADING

__all__ = ["LoadedModel", "load_model", "resolve_model_path"]

_log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A base model ready to be prefix-tuned, with what the rest of the workbench needs to know."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    objective: Objective
    architecture: Architecture
    name: str  # what the user asked for
    path: str  # what from_pretrained was given
    task = FORMER_TASK  # deprecated: a *task* is now only a member of a multi-task mixture

    @property
    def model_type(self) -> str:
        return self.model.config.model_type

    @property
    def shareable(self) -> bool:
        """May runs share this base? Only a generative one: PEFT wraps a classifier's head inside the base
        model, so each classifier run needs a base of its own."""
        return self.objective.generative


def resolve_model_path(name: str) -> str:
    """A built-in's materialized directory, a packaged model's fetched copy (or hub id), the folder a GGUF file was
    converted into, an existing local directory, or the hub id unchanged."""
    if not name or not name.strip():
        raise ModelLoadError("no model given; pass a built-in name (see `prefix-workbench models`), a hub id or a path")
    if name in BUILTIN_MODELS:
        return str(builtin_path(name))
    if name in PACKAGED_MODELS:
        return packaged_path(name)
    if is_gguf(name):
        return str(gguf_folder(name))
    local = Path(name).expanduser()
    if local.exists():
        if not (local / "config.json").is_file():
            raise ModelLoadError(f"{name!r} is a local path but holds no config.json; point at a model directory")
        return str(local)
    if name.startswith(("/", "./", "../", "~")) or name.endswith(os.sep) or name.count("/") > 1:
        raise ModelLoadError(f"model directory {name!r} does not exist")
    return name


def load_model(
    choice: ModelChoice,
    dataset_kind: str,
    *,
    label_names: list[str] | None = None,
) -> LoadedModel:
    """Load ``choice`` with the head its objective needs; tokenizer padded on the right."""
    path = resolve_model_path(choice.name)
    kwargs: dict[str, Any] = {"revision": choice.revision, "trust_remote_code": choice.trust_remote_code}
    if not Path(path).exists() and not hub_reachable():
        kwargs["local_files_only"] = True  # only the local HF cache can serve it
    if choice.trust_remote_code:
        warnings.warn(
            f"trust_remote_code is on: code shipped with {choice.name!r} will run on this machine",
            stacklevel=2,
        )
    config = _load_or_explain(AutoConfig.from_pretrained, path, choice.name, **kwargs)
    arch = architecture_of(config)
    objective = resolve_objective(arch, dataset_kind)
    # Built-ins carry a plain word-level tokenizer; AutoTokenizer would swap in a family class
    # for some model types (Qwen2, Phi-3) that misreads it.
    tok_class = PreTrainedTokenizerFast if choice.name in BUILTIN_MODELS else AutoTokenizer
    tokenizer = _load_or_explain(tok_class.from_pretrained, path, choice.name, **kwargs)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(f"tokenizer of {choice.name!r} has neither a pad nor an eos token; add one")
        tokenizer.pad_token = tokenizer.eos_token  # GPT-2 style; padded positions are masked anyway
    tokenizer.padding_side = "right"

    model_kwargs = {**kwargs, **objective.model_kwargs(label_names)}
    auto_class = getattr(transformers, objective.auto_class)
    # The head of a classification model is new; quiet transformers' "newly initialized" notice.
    # Weights the checkpoint lacks (a new head, BERT's pooler under a masked-LM checkpoint) are drawn from a
    # fixed seed: they stay frozen and are not in the adapter, so every load must draw the same ones.
    with held_verbosity(transformers.logging, logging.ERROR), seeded(0):
        model = _load_or_explain(auto_class.from_pretrained, path, choice.name, **model_kwargs)
    if getattr(model, "loss_type", "") is None and objective.loss_type:
        # Class names such as GPT2LMHeadModel match no loss family, so transformers warns at the first loss
        # and falls back to the objective's own: name it.
        model.loss_type = objective.loss_type
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    gen = getattr(model, "generation_config", None)
    if gen is not None and gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id
    return LoadedModel(
        model=model, tokenizer=tokenizer, objective=objective, architecture=arch, name=choice.name, path=path
    )


def _load_or_explain(fn: Any, path: str, name: str, **kwargs: Any) -> Any:
    try:
        # One model load at a time; no "Loading weights" bar for every model; hub calls that give up in seconds.
        with LOADING, quiet(), hub_timeouts():
            return fn(path, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        first = one_line(exc)
        if Path(path).exists():
            where = "local directory"
        elif kwargs.get("local_files_only"):
            where = f"hub id, but {offline_reason()} and it is not in the local cache"
        else:
            where = "hub id (no such repo, or no access)"
        raise ModelLoadError(f"could not load {name!r}: not a built-in, tried it as a {where}: {first}") from None
