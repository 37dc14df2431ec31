"""GGUF files as a model source: dequantized once into an ordinary model folder, cached by content.

transformers reads a GGUF file through the ``gguf`` package (``from_pretrained(folder,
gguf_file=name)``), but that takes tens of seconds to dequantize, and a model loaded so
refuses ``save_pretrained``. :func:`gguf_folder` does the work once: it loads the tokenizer
and model from the file, copies the dequantized weights into a fresh model of the same
config, and saves both as a normal folder under ``<cache>/models/gguf-<sha256>``, keyed by
the file's content, so every later load is the ordinary ``from_pretrained`` of
:mod:`.loading` and a renamed or moved copy of the file reuses the folder. Beside the weights the
folder records its source (:func:`gguf_record`: the file's name, SHA-256 and quantization), so a
run trained on it can say which weights it learned on. The run keeps the name the user gave (the
``.gguf`` path); its base fingerprint guards a reload. This module neither downloads files
(:mod:`.fetch`) nor decides heads (:mod:`.loading`).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..errors import ModelLoadError, one_line
from ..process_state import held_verbosity
from .builtin import cache_home
from .sharing import LOADING

__all__ = ["file_sha256", "gguf_folder", "gguf_record", "is_gguf"]

_MAGIC = b"GGUF"
# What a converted folder records about its source, beside config.json.
_SOURCE_FILE = "gguf_source.json"
# How gguf names a file's quantization (LlamaFileType): ``MOSTLY_Q4_1`` is the Q4_1 everyone writes.
_FILE_TYPE_PREFIXES = ("MOSTLY_", "ALL_")


def is_gguf(name: str) -> bool:
    """Does ``name`` name a GGUF file (by its suffix)?"""
    return name.lower().endswith(".gguf")


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """The hex SHA-256 of a file's bytes (a 100 MB file in about a third of a second)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def gguf_folder(path: str | Path, *, target: Path | None = None) -> Path:
    """The model folder made from the GGUF file at ``path``, converting it on first use.

    ``target``: where to put the folder (default ``<cache>/models/gguf-<sha256[:16]>``). One-line
    :class:`ModelLoadError` when the file is missing, not GGUF, or ``gguf`` is not installed.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelLoadError(f"GGUF file {str(path)!r} does not exist")
    with source.open("rb") as fh:
        if fh.read(4) != _MAGIC:
            raise ModelLoadError(f"{source.name!r} is not a GGUF file (it lacks the GGUF header)")
    sha = file_sha256(source)
    target = target or cache_home() / "models" / f"gguf-{sha[:16]}"
    if (target / "config.json").is_file() and _recorded_sha(target) == sha:
        return target
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError("reading GGUF files needs the gguf package; pip install 'prefix-workbench[gguf]'")
    target.parent.mkdir(parents=True, exist_ok=True)
    # One conversion per folder across processes; one that waited finds the folder done.
    with FileLock(f"{target}.lock"):
        if (target / "config.json").is_file() and _recorded_sha(target) == sha:
            return target
        # Convert in a temporary sibling and rename, so an interrupted conversion leaves nothing half-written.
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            with LOADING:  # one model build at a time in this process (see models.sharing)
                said = _convert(source, tmp)
            record = {"file": source.name, "sha256": sha, **said}
            (tmp / _SOURCE_FILE).write_text(json.dumps(record, indent=1) + "\n")
            if target.exists():  # a stale or foreign folder under this name
                shutil.rmtree(target)
            tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def gguf_record(folder: str | Path) -> dict[str, Any] | None:
    """What a folder converted from a GGUF file records about it — ``file`` (its name), ``sha256`` and, for folders
    converted since it was recorded, ``quantization`` (e.g. ``Q4_1``); None for a folder not made from a GGUF file."""
    try:
        record = json.loads((Path(folder) / _SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "sha256" in record else None


def _recorded_sha(folder: Path) -> str | None:
    record = gguf_record(folder)
    return record["sha256"] if record else None


def _quantization(source: Path) -> dict[str, str]:
    """The quantization ``source`` says it holds (``general.file_type``), as ``{"quantization": "Q4_1"}``; empty
    when the file does not say."""
    import gguf

    field = gguf.GGUFReader(source).get_field("general.file_type")
    if field is None:
        return {}
    number = int(field.contents())
    try:
        name = gguf.LlamaFileType(number).name
    except ValueError:  # a file type newer than this gguf package
        return {"quantization": f"file type {number}"}
    for prefix in _FILE_TYPE_PREFIXES:
        name = name.removeprefix(prefix)
    return {"quantization": name}


def _convert(source: Path, out: Path) -> dict[str, str]:
    """Dequantize ``source`` and save it as a plain fp32 model folder with its tokenizer; what the file says about
    its weights (:func:`_quantization`), for the folder's record."""
    import torch
    import transformers
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..quiet import quiet

    folder, name = str(source.parent), source.name
    # Each step takes tens of seconds on a large vocabulary (Gemma 3's 262k tokens on two cores: the tokenizer
    # ~30 s, the weights ~45 s): the bar names the one under way.
    steps = tqdm(total=3, desc=f"convert {name}", unit="step", leave=False, postfix="rebuilding the tokenizer")
    try:
        with quiet():
            try:
                tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
                steps.set_postfix_str("dequantizing the weights")
                steps.update()
                loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                first = one_line(exc)
                raise ModelLoadError(f"transformers cannot read {name!r}: {first}") from None
            steps.set_postfix_str("saving")
            steps.update()
            # A model loaded from GGUF carries a quantization config that save_pretrained refuses; the weights
            # are already plain fp32, so a fresh model of the same config takes them as they are. (A copy of the
            # loaded config: reading it from the file again parses the whole file, ~20 s for Gemma 3.)
            config = copy.deepcopy(loaded.config)
            if hasattr(config, "quantization_config"):
                del config.quantization_config
            with held_verbosity(transformers.logging, logging.ERROR):
                plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            plain.load_state_dict(loaded.state_dict(), strict=True)
            plain.tie_weights()
            plain.generation_config = loaded.generation_config
            plain.save_pretrained(out)
            tokenizer.save_pretrained(out)
            steps.update()
    finally:
        steps.close()
    return _quantization(source)
