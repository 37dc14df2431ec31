"""Base models: the built-in tiny models, curated hub ids, family quirks, loading and sharing.

Imports are lazy (PEP 562): listing the registry imports neither transformers nor torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "BUILTIN_MODELS": ".registry",
    "CURATED_MODELS": ".registry",
    "BuiltinModel": ".registry",
    "FamilyQuirks": ".registry",
    "Licence": ".registry",
    "LoadedModel": ".loading",
    "PACKAGED_MODELS": ".registry",
    "PackagedModel": ".registry",
    "WheelFile": ".registry",
    "adapter_base_name": ".registry",
    "fetch_model": ".fetch",
    "gguf_folder": ".gguf",
    "gguf_record": ".gguf",
    "architecture_of": ".registry",
    "base_lock": ".sharing",
    "base_of": ".sharing",
    "builtin_path": ".builtin",
    "cache_home": ".builtin",
    "fingerprint": ".fingerprint",
    "load_model": ".loading",
    "quirks_for": ".registry",
    "resolve_model_path": ".loading",
    "running": ".sharing",
    "word_tokenizer": ".builtin",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
