"""Local data files and folders read into ``datasets`` splits, by their suffix.

CSV, TSV, JSON and JSON Lines (each also compressed: ``.gz``, ``.bz2``, ``.xz``, ``.zst``), Parquet and
Arrow files are read by ``datasets``' own loaders, a folder written by ``Dataset.save_to_disk`` or
``DatasetDict.save_to_disk`` by ``datasets.load_from_disk`` (a DatasetDict keeps its splits), and a folder
of split files (``train.jsonl``, ``dev.jsonl``, ``test.jsonl``, as shared tasks publish them) file by file,
each file's stem naming its split. What each
suffix means is the table :data:`FORMATS`. Text files are checked for UTF-8 first (a byte-order mark is
fine); problems are one-line :class:`DataError` messages. Column names, kinds and splits are
:mod:`.sources`' business; this module only reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DataError, one_line
from ..quiet import quiet

__all__ = ["FORMATS", "SPLIT_STEMS", "data_stem", "looks_like_file", "read_local"]

# Suffix -> (datasets builder, its options, whether the file is text).
FORMATS: dict[str, tuple[str, dict[str, Any], bool]] = {
    ".csv": ("csv", {}, True),
    ".tsv": ("csv", {"sep": "\t"}, True),
    ".json": ("json", {}, True),
    ".jsonl": ("json", {}, True),
    ".parquet": ("parquet", {}, False),
    ".arrow": ("arrow", {}, False),
}
COMPRESSED = (".gz", ".bz2", ".xz", ".zst")  # datasets decompresses these itself
_SAVED = ("dataset_dict.json", "state.json")  # what save_to_disk writes at a folder's top


# File names that say which split a file holds rather than what it is (a folder's train.jsonl, E2E's devset.csv).
SPLIT_STEMS = frozenset({"train", "dev", "valid", "validation", "test", "trainset", "devset", "testset"})


def looks_like_file(name: str) -> bool:
    """Whether ``name`` reads as a local path rather than a hub id."""
    return name.startswith(("/", "./", "../", "~")) or _format_suffix(Path(name)) in FORMATS


def read_local(path: Path) -> dict[str, Any]:
    """The splits in a file (``train``) or a saved folder (its own split names)."""
    if path.is_dir():
        return _read_saved(path)
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist")
    suffix = _format_suffix(path)
    if suffix not in FORMATS:
        raise DataError(f"cannot read {path.name!r}: use a {', '.join(FORMATS)} file (optionally "
                        f"{'/'.join(COMPRESSED)}) or a folder written by save_to_disk")  # fmt: skip
    builder, options, text = FORMATS[suffix]
    if text and path.suffix.lower() not in COMPRESSED:
        _check_text(path)
    if suffix == ".parquet" and _parquet_rows(path) == 0:  # datasets fails on it with a batch-size error
        raise DataError(f"{path.name!r} has no rows")
    import datasets

    try:
        with quiet():
            raw = datasets.load_dataset(builder, data_files=str(path), split="train", **options)
    except Exception as exc:  # datasets raises many types for malformed files
        if "corresponds to no data" in str(exc):
            raise DataError(f"{path.name!r} has no rows") from None
        raise DataError(f"could not parse {path.name!r} as {suffix[1:]}: {one_line(exc)}") from None
    if len(raw) == 0:
        raise DataError(f"{path.name!r} has no rows")
    return {"train": raw}


def data_stem(path: Path) -> str:
    """A data file's name without its format and compression suffixes (``my.reviews.csv.gz``: ``my.reviews``)."""
    name = path.name
    for known in (COMPRESSED, FORMATS):  # a compression suffix comes last, the format's before it
        suffix = Path(name).suffix
        if suffix.lower() in known:
            name = name[: -len(suffix)]
    return name


def _format_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _check_text(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the 4 kB boundary
            raise DataError(f"{path.name!r} is not UTF-8 text; save it as UTF-8") from None
    if b"\x00" in head:
        raise DataError(f"{path.name!r} looks binary; expected UTF-8 text (or name it .parquet / .arrow)")


def _parquet_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # not Parquet: datasets' own reading says how
        return None


def _read_saved(path: Path) -> dict[str, Any]:
    if not any((path / name).is_file() for name in _SAVED):
        return _read_split_files(path)
    import datasets

    try:
        saved = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError(f"could not read the saved dataset in {path.name!r}: {one_line(exc)}") from None
    return dict(saved) if isinstance(saved, datasets.DatasetDict) else {"train": saved}


def _read_split_files(path: Path) -> dict[str, Any]:
    """A folder of data files named for their splits: ``{stem: rows}``; one line when it holds no train file."""
    files = {f.name.split(".")[0].lower(): f for f in sorted(path.iterdir()) if f.is_file() and
             _format_suffix(f) in FORMATS}  # fmt: skip
    if "train" not in files:
        raise DataError(f"{str(path)!r} is a folder without a train file; give a data file, a folder of split files "
                        f"(train.jsonl, dev.jsonl, test.jsonl, …) or a folder written by save_to_disk")  # fmt: skip
    return {split: read_local(file)["train"] for split, file in files.items()}
