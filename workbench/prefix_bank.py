"""Many prefixes, one batch: greedy generation where every row uses its own prefix.

Li & Liang (§8) point out that prefixes let one batch serve many tasks, but PEFT's
``generate(adapter_names=…)`` is LoRA-only. A :class:`PrefixBank` holds several
trained prefixes for one frozen decoder and builds, per batch, a key/value cache
whose row *r* holds prefix *r*. Prefixes of unequal length are left-padded to the
longest with masked slots, and the attention mask ``[prefix slots | prompt]``
lets ``generate`` derive each row's positions exactly as a single-prefix run would
(queries start at that row's own prefix length), so outputs equal running each
prefix on its own. Decoders only; training lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from transformers import DynamicCache

from .data.conversations import Conversation
from .errors import CompatibilityError, ConfigError, ExportError
from .generate import stop_tokens
from .jsonio import read_object
from .models.objectives import OBJECTIVES
from .run import Run
from .rundir import ADAPTER_DIR, read_run_record

__all__ = ["PrefixBank", "load_prefix_bank"]


@dataclass(frozen=True)
class _Prefix:
    keys: torch.Tensor  # [layers, kv_heads, length, head_dim]
    values: torch.Tensor  # same shape

    @property
    def length(self) -> int:
        return self.keys.shape[2]


class PrefixBank:
    """Trained prefixes for one base decoder, by name; :meth:`generate` mixes them per row."""

    def __init__(self, model: Any, tokenizer: Any, *, separator: str = "->") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.separator = separator
        self.prefixes: dict[str, _Prefix] = {}

    def add(self, name: str, adapter_dir: str | Path) -> None:
        """Add the prefix saved in a PEFT adapter directory under ``name``."""
        adapter_dir = Path(adapter_dir)
        cfg = read_object(adapter_dir / "adapter_config.json", CompatibilityError,
                          f"adapter_config.json in {str(adapter_dir)!r}")  # fmt: skip
        if cfg.get("peft_type") != "PREFIX_TUNING" or cfg.get("task_type") != "CAUSAL_LM":
            raise CompatibilityError(f"{adapter_dir} is not a causal-LM prefix adapter")
        flat = load_file(str(adapter_dir / "adapter_model.safetensors"))["prompt_embeddings"]
        layers, heads, token_dim = cfg["num_layers"], cfg["num_attention_heads"], cfg["token_dim"]
        # PEFT's layout: [V, layers * 2 * token_dim] -> [V, layers*2, kv_heads, head_dim] -> [layers*2, kv_heads, V, d]
        kv = flat.view(flat.shape[0], layers * 2, heads, token_dim // heads).permute(1, 2, 0, 3)
        dtype, device = self.model.dtype, self.model.device
        self.prefixes[name] = _Prefix(kv[0::2].to(device, dtype), kv[1::2].to(device, dtype))

    @torch.no_grad()
    def generate(self, prompts: Sequence[str | Conversation], prefixes: Sequence[str], *,
                 max_new_tokens: int = 48) -> list[str]:  # fmt: skip
        """Greedy outputs; row i continues ``prompts[i]`` under the prefix named ``prefixes[i]``. Prompts for chat
        runs' prefixes are lists of messages (written with the base's chat template, as in training)."""
        if len(prompts) != len(prefixes):
            raise ConfigError(f"{len(prompts)} prompts but {len(prefixes)} prefix names")
        unknown = sorted(set(prefixes) - set(self.prefixes))
        if unknown:
            raise ConfigError(f"no prefix named {unknown[0]!r}; known: {', '.join(self.prefixes)}")
        rows = [self.prefixes[name] for name in prefixes]
        longest = max(p.length for p in rows)
        cache, prefix_mask = self._cache(rows, longest)
        enc = OBJECTIVES["causal-lm"].prompt_inputs(self.tokenizer, list(prompts), self.separator)
        enc = enc.to(self.model.device)
        mask = torch.cat([prefix_mask, enc["attention_mask"]], dim=1)
        out = self.model.generate(
            input_ids=enc["input_ids"],
            attention_mask=mask,
            past_key_values=cache,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=stop_tokens(self.tokenizer, prompts),
        )
        new = out[:, enc["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def _cache(self, rows: list[_Prefix], longest: int) -> tuple[DynamicCache, torch.Tensor]:
        """A cache with row r = prefix r, left-padded to ``longest``; and the matching [B, longest] mask."""
        layers, heads, _, dim = rows[0].keys.shape
        batch = len(rows)
        device, dtype = self.model.device, self.model.dtype
        keys = torch.zeros(layers, batch, heads, longest, dim, device=device, dtype=dtype)
        values = torch.zeros_like(keys)
        mask = torch.zeros(batch, longest, dtype=torch.long, device=device)
        for r, prefix in enumerate(rows):
            keys[:, r, :, longest - prefix.length :] = prefix.keys
            values[:, r, :, longest - prefix.length :] = prefix.values
            mask[r, longest - prefix.length :] = 1
        cache = DynamicCache(config=self.model.config)
        for layer in range(layers):
            cache.update(keys[layer], values[layer], layer)
        return cache, mask


def load_prefix_bank(runs: Sequence[str | Path]) -> PrefixBank:
    """The prefixes of exported runs of one base decoder, served together: the base loads once (from the first
    run) and each prefix is named by its run's path, so ``load_prefix_bank(["runs/a", "runs/b"]).generate(prompts,
    ["runs/a", "runs/b", …])`` runs each row under its own run's prefix, in one batch."""
    if not runs:
        raise ExportError("give at least one run directory")
    first = Run.load(runs[0])
    if not first.objective.decoder_only:
        name = first.config.model.name
        raise CompatibilityError(f"mixed-prefix generation needs a decoder; {name} is a {first.objective} model")
    bank = PrefixBank(first.model.get_base_model(), first.tokenizer, separator=first.config.data.separator)
    for path in runs:
        base = read_run_record(path).config.model.name  # checked: complete, this format, settings that load
        if base != first.config.model.name:
            raise CompatibilityError(f"{path} was trained on {base!r}, not {first.config.model.name!r}; a bank "
                                     "serves prefixes of one base model")  # fmt: skip
        bank.add(str(path), Path(path) / ADAPTER_DIR)
    return bank
