"""Run directories: write a trained prefix to share it, and read one back.

A run directory holds

* ``adapter/`` — a standard PEFT adapter (``adapter_config.json`` +
  ``adapter_model.safetensors``) with the tokenizer beside it, loadable by plain
  ``peft`` without importing the workbench; it names its base by a name that travels
  (a packaged model by its hub id, which plain transformers loads);
* ``run.json`` — every setting, the final metrics, the loss history, parameter
  counts and library versions;
* ``README.md`` — a model card that says how to load and use the prefix, which
  weights it was trained on (a GGUF file's, dequantized, when the base came from one),
  and for a packaged base the licence it comes under, with the NOTICE its terms ask for
  (:mod:`.model_card`);
* ``checkpoint/`` (optional) — the resumable training state (:mod:`.checkpoint`).

Writing goes to a temporary sibling that is renamed into place, so an interrupted
export leaves either nothing or a complete run; an existing directory is never
replaced unless ``overwrite=True``. Reading checks the files before loading. This
module works on the parts of a run (model, tokenizer, its :class:`~workbench.run_record.RunRecord`,
training state); :class:`workbench.run.Run` assembles them, and nothing here imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peft import PeftModel
from safetensors import SafetensorError, safe_open

from .checkpoint import CHECKPOINT_DIR, read_checkpoint, write_checkpoint
from .errors import ExportError, WriteError, one_line
from .history import History
from .jsonio import dumps, read_object
from .model_card import model_card
from .models.fingerprint import fingerprint as base_fingerprint
from .models.registry import adapter_base_name
from .models.sharing import LOADING
from .quiet import quiet
from .run_record import RUN_FILE, RUN_FORMAT, RunRecord

__all__ = [
    "ADAPTER_DIR",
    "CHECKPOINT_DIR",
    "RUN_FILE",
    "RUN_FORMAT",
    "open_adapter",
    "read_checkpoint",
    "read_history",
    "read_run_record",
    "rescue_adapter",
    "write_run_dir",
    "write_text",
]

ADAPTER_DIR = "adapter"
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def write_run_dir(
    path: str | Path,
    *,
    model: Any,
    tokenizer: Any,
    record: RunRecord,
    state: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a run directory atomically: ``model``'s adapter and ``tokenizer``, ``record`` as run.json (+ card).

    ``state``: a trainer's resumable state, written as ``checkpoint/``. An existing ``path`` is
    replaced only with ``overwrite``.
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise ExportError(f"{str(path)!r} already exists; choose another directory or pass overwrite=True "
                          "(CLI: --overwrite)")  # fmt: skip
    with _as_write_error(path):
        _write(path, model, tokenizer, record, state)
    return path


def rescue_adapter(model: Any, tokenizer: Any, record: RunRecord, name: str) -> Path | None:
    """Save the adapter (a few kB to MB) and run.json where the disk still takes them; None if nowhere does.

    Tries the workbench's cache folder, then the system's temporary folder, then ``/dev/shm`` (memory).
    """
    from .models.builtin import cache_home

    stamp = time.strftime("%Y%m%d-%H%M%S")
    for root in (cache_home() / "rescue", Path(tempfile.gettempdir()) / "prefix-workbench-rescue",
                 Path("/dev/shm/prefix-workbench-rescue")):  # fmt: skip
        try:
            return write_run_dir(root / f"{name}-{stamp}", model=model, tokenizer=tokenizer, record=record)
        except ExportError:
            continue
    return None


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (a temporary sibling renamed over it, so a reader never
    sees half a file); a refused write is one :class:`WriteError` line naming the path and the cause."""
    path = Path(path)
    with _as_write_error(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


@contextmanager
def _as_write_error(path: Path) -> Iterator[None]:
    """A refused write becomes one line that names the path and the cause (the partial output is gone)."""
    try:
        yield
    except SafetensorError as exc:  # a full disk surfaces here, not as an OSError
        raise WriteError(f"could not write {str(path)!r}: {_cause(str(exc))}") from None
    except OSError as exc:
        raise WriteError(f"could not write {str(path)!r}: {_cause(exc.strerror or str(exc))}") from None


def _cause(text: str) -> str:
    text = one_line(text) if text.strip() else "the write failed"
    return "no space left on device" if "os error 28" in text or "No space left" in text else text


def _write(path: Path, model: Any, tokenizer: Any, record: RunRecord, state: dict[str, Any] | None) -> None:
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():  # mkdir would only say "File exists"
        raise WriteError(f"could not write {str(path)!r}: {str(blocking)!r} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        with quiet():
            model.save_pretrained(tmp / ADAPTER_DIR)
            tokenizer.save_pretrained(tmp / ADAPTER_DIR)
        if record.base_model:
            _name_base(tmp / ADAPTER_DIR / "adapter_config.json", adapter_base_name(record.base_model))
        (tmp / RUN_FILE).write_text(dumps(record.to_dict(), indent=2), encoding="utf-8")
        (tmp / "README.md").write_text(model_card(record), encoding="utf-8")
        if state is not None:
            write_checkpoint(state, tmp / CHECKPOINT_DIR)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{time.time_ns()}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_run_record(path: str | Path) -> RunRecord:
    """The record of a run directory (its ``run.json``), after checking that the directory is complete."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ExportError(f"run directory {str(path)!r} does not exist")
    for name in (RUN_FILE, *(f"{ADAPTER_DIR}/{f}" for f in _ADAPTER_FILES)):
        if not (path / name).is_file():
            raise ExportError(f"{str(path)!r} is not a complete run directory: {name} is missing")
    try:
        with safe_open(str(path / ADAPTER_DIR / "adapter_model.safetensors"), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open has no __iter__
                fh.get_tensor(key)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ExportError(f"adapter weights in {str(path)!r} are unreadable (truncated or corrupted?): "
                          f"{one_line(exc)}") from None  # fmt: skip
    return _run_json(path)


def read_history(path: str | Path) -> History:
    """The training history ``run.json`` of a run directory records (the adapter is not opened: a sweep's
    curves read every trial's)."""
    path = Path(path).expanduser()
    if not (path / RUN_FILE).is_file():
        raise ExportError(f"{str(path)!r} holds no {RUN_FILE}; give a run directory written by `train`")
    return _run_json(path).history


def _run_json(path: Path) -> RunRecord:
    """The record in ``run.json`` of ``path``: valid JSON, then :meth:`RunRecord.from_dict`'s checks."""
    return RunRecord.from_dict(read_object(path / RUN_FILE, ExportError, f"{RUN_FILE} in {str(path)!r}"), str(path))


def open_adapter(path: str | Path, base: Any, name: str, *, fingerprint: str | None = None) -> PeftModel:
    """The prefix saved in run directory ``path`` on ``base`` (checked to fit it first), in eval mode.

    ``fingerprint``: the base's, as recorded at export; weights that differ are refused in one line.
    """
    adapter = Path(path).expanduser() / ADAPTER_DIR
    _check_fit(adapter, base.config, name)
    if fingerprint is not None and base_fingerprint(base) != fingerprint:
        raise ExportError(f"the prefix in {str(path)!r} was trained on other weights than the {name!r} loaded here "
                          "(its fingerprint differs: another revision, version or copy); load the base it was "
                          "trained on")  # fmt: skip
    try:
        with LOADING, quiet():
            model = PeftModel.from_pretrained(base, str(adapter))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ExportError(
            f"the adapter in {str(path)!r} does not fit {name!r} (layers, heads or head size differ): {one_line(exc)}"
        ) from None
    return model.eval()


def _name_base(config_file: Path, name: str) -> None:
    """Name the base by a name that travels (:func:`~workbench.models.registry.adapter_base_name`: a hub id or a
    built-in's name), not by a path of this machine."""
    config = read_object(config_file, ExportError, str(config_file))
    config["base_model_name_or_path"] = name
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")


def _check_fit(adapter: Path, model_config: Any, name: str) -> None:
    """Compare the adapter's layers / heads / token size with what PEFT derives from the base model."""
    from peft import PrefixTuningConfig
    from peft.utils.other import _prepare_prompt_learning_config

    saved = read_object(adapter / "adapter_config.json", ExportError, f"adapter_config.json in {str(adapter)!r}")
    if saved.get("peft_type") != "PREFIX_TUNING":
        raise ExportError(f"{str(adapter)!r} holds a {saved.get('peft_type')} adapter, not a prefix")
    expected = _prepare_prompt_learning_config(
        PrefixTuningConfig(task_type=saved.get("task_type"), num_virtual_tokens=saved["num_virtual_tokens"]),
        model_config,
    )
    for key in ("num_layers", "num_attention_heads", "token_dim"):
        if saved.get(key) != getattr(expected, key):
            raise ExportError(
                f"the adapter does not fit {name!r}: it was trained for {key}={saved.get(key)}, "
                f"the model has {getattr(expected, key)}; load it with the base model it was trained on"
            )
