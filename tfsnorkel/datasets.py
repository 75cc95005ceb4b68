"""Loaders for real weak-supervision data: WRENCH sets, the YouTube Spam Collection, CFPB complaints.

Where the files come from, in order:

1. ``data_dir=`` passed to a loader;
2. the ``TFSNORKEL_DATA_DIR`` environment variable (layout: ``wrench/<name>/*.json``,
   ``youtube_spam_collection/*.csv``, ``cfpb/*.csv``);
3. a cache (``TFSNORKEL_CACHE_DIR``, default ``~/.cache/tfsnorkel``) filled by downloading
   from the public source, each file checked against a pinned SHA-256.

Example:
    >>> ds = load_wrench("youtube")              # doctest: +SKIP
    >>> ds.train.L.shape, ds.cardinality         # doctest: +SKIP
    ((1586, 10), 2)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DatasetNotFoundError",
    "WrenchDataset",
    "WrenchSplit",
    "data_root",
    "load_cfpb_complaints",
    "load_wrench",
    "load_youtube_spam_collection",
]

WRENCH_URL = (
    "https://huggingface.co/datasets/jieyuz2/WRENCH/resolve/main/classification/{name}/{file}"
)
YOUTUBE_ZIP_URL = "https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip"

#: SHA-256 of every file the loaders download, pinned from the published copies.
CHECKSUMS: dict[str, str] = {
    "wrench/sms/label.json": "5ba8069344eaf5578717910018232889bb77d6dad78b7fe7d002aeb089bc7efb",
    "wrench/sms/test.json": "7a3fad03b9ad609e91a276e92b3bc31fbb8a48eacbc1bf42853cd440a4f6c080",
    "wrench/sms/train.json": "9d77f52d2af078dbcecffad72c6b22cb6f8fe89c68db0ad99e811be06ec46800",
    "wrench/sms/valid.json": "977a3b91bdbdb12186b44ee422a51eac85de343b8159e4973b16cf4b3d245d32",
    "wrench/trec/label.json": "c5b6ea0cd3a4632639df7eea02f92640ffb561dd6421d831bad7544defdb2e71",
    "wrench/trec/test.json": "95b1a8fbefbeda9b75b96416814dd46794872809a2295832761b2a0b7bc5de3d",
    "wrench/trec/train.json": "92a1cfc914222003512efd69ee55bd89150bf42f35400c1325f861bfe2a0e350",
    "wrench/trec/valid.json": "56b27e6796ecb4fe63d60060306bdb65dec6f8e5f345cdce068eb50a5f90b5c9",
    "wrench/youtube/label.json": "6837af4230238ed5c9d5d32ce309083b24491fe5d085f0b779298e7c67eeb74a",
    "wrench/youtube/test.json": "abcadb6e0a81d1b1a1f19ad6acb73fd201288fae3e89d88593fae9cbca4d5a21",
    "wrench/youtube/train.json": "a435c4e6853c95ac8bdc6bcf9e01d4bad39aa8e5713d273ed01aa5edbfc215b8",
    "wrench/youtube/valid.json": "278b947d748b4b921b2dd60918318f7ee817584d85a719d0db6f5365d6e87b01",
    "youtube_spam_collection/Youtube01-Psy.csv": "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535",
    "youtube_spam_collection/Youtube02-KatyPerry.csv": "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b",
    "youtube_spam_collection/Youtube03-LMFAO.csv": "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928",
    "youtube_spam_collection/Youtube04-Eminem.csv": "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76",
    "youtube_spam_collection/Youtube05-Shakira.csv": "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e",
}

WRENCH_SETS = ("youtube", "sms", "trec")
_WRENCH_FILES = ("label.json", "train.json", "valid.json", "test.json")
_YOUTUBE_FILES = tuple(k.split("/", 1)[1] for k in CHECKSUMS if k.startswith("youtube_spam"))
CFPB_FILE = "cfpb/complaints_2019_2020_sample.csv"


class DatasetNotFoundError(FileNotFoundError):
    """A data set is neither on disk nor downloadable (offline, or a checksum mismatch)."""


def data_root(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Returns the local data directory in force, or `None` when only the cache applies.

    Args:
        data_dir: explicit directory. Defaults to `None` (use ``$TFSNORKEL_DATA_DIR``).

    Returns:
        The directory as a `Path`, or `None` when neither is set.
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("TFSNORKEL_DATA_DIR")
    return Path(env) if env else None


def _cache_root() -> Path:
    return Path(os.environ.get("TFSNORKEL_CACHE_DIR", Path.home() / ".cache" / "tfsnorkel"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (fixed URLs)
            return resp.read()
    except OSError as exc:  # URLError is an OSError
        raise DatasetNotFoundError(
            f"could not download {url} ({exc}). Offline? Point TFSNORKEL_DATA_DIR at a "
            "directory holding the data (see README, 'Data')."
        ) from exc


def _store(rel: str, payload: bytes, root: Path) -> Path:
    """Writes a downloaded file into the cache after checking its pinned checksum."""
    digest = hashlib.sha256(payload).hexdigest()
    expected = CHECKSUMS.get(rel)
    if expected is not None and digest != expected:
        raise DatasetNotFoundError(
            f"checksum mismatch for {rel}: expected sha256 {expected}, got {digest}. "
            "The download is corrupt or the upstream file changed; nothing was cached."
        )
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        tmp.write(payload)
    shutil.move(tmp.name, dest)
    return dest


def _locate(rels: tuple[str, ...], data_dir, download_group) -> Path:
    """Finds ``rels`` under the local data dir, else in the cache, else downloads them."""
    root = data_root(data_dir)
    if root is not None:
        missing = [r for r in rels if not (root / r).is_file()]
        if not missing:
            return root
        if data_dir is not None or os.environ.get("CI"):
            raise DatasetNotFoundError(
                f"{root} lacks {', '.join(missing)}. Expected the layout of "
                "TFSNORKEL_DATA_DIR described in README ('Data')."
            )
    cache = _cache_root()
    if all(
        (cache / r).is_file() and _sha256(cache / r) == CHECKSUMS.get(r, _sha256(cache / r))
        for r in rels
    ):
        return cache
    download_group(cache)
    return cache


def _download_wrench(name: str):
    def run(cache: Path) -> None:
        for file in _WRENCH_FILES:
            rel = f"wrench/{name}/{file}"
            _store(rel, _fetch(WRENCH_URL.format(name=name, file=file)), cache)

    return run


def _download_youtube(cache: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_fetch(YOUTUBE_ZIP_URL)))
    members = {Path(n).name: n for n in archive.namelist()}
    for file in _YOUTUBE_FILES:
        if file not in members:
            raise DatasetNotFoundError(f"{YOUTUBE_ZIP_URL} has no member {file}")
        _store(f"youtube_spam_collection/{file}", archive.read(members[file]), cache)


@dataclass(frozen=True)
class WrenchSplit:
    """One split of a WRENCH data set.

    Attributes:
        frame: one row per example: ``id`` plus every field of ``data`` (e.g. ``text``).
        L: ``[N, m]`` int32 shipped weak labels (``-1`` = abstain).
        y: ``[N]`` int32 gold labels.
    """

    frame: pd.DataFrame
    L: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class WrenchDataset:
    """A WRENCH classification set: label names and its train/valid/test splits."""

    name: str
    label_names: tuple[str, ...]
    train: WrenchSplit
    valid: WrenchSplit
    test: WrenchSplit

    @property
    def cardinality(self) -> int:
        """Number of classes."""
        return len(self.label_names)

    @property
    def n_lfs(self) -> int:
        """Number of shipped labeling functions (columns of ``L``)."""
        return int(self.train.L.shape[1])


def _read_wrench_split(path: Path) -> WrenchSplit:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if not raw:
        raise ValueError(f"{path} holds no examples")
    ids = list(raw)
    rows = []
    for i in ids:
        rec = raw[i]
        try:
            rows.append({"id": i, **rec["data"]})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: example {i!r} lacks a 'data' dict") from exc
    frame = pd.DataFrame(rows)
    L = np.asarray([raw[i]["weak_labels"] for i in ids], dtype=np.int32)
    y = np.asarray([raw[i]["label"] for i in ids], dtype=np.int32)
    return WrenchSplit(frame=frame, L=L, y=y)


def load_wrench(name: str, data_dir: str | os.PathLike | None = None) -> WrenchDataset:
    """Loads a WRENCH classification set (``youtube``, ``sms``, ``trec``, ...).

    Args:
        name: the set's folder name under ``wrench/``.
        data_dir: directory holding ``wrench/<name>/``. Defaults to `None`
            (``$TFSNORKEL_DATA_DIR``, else the download cache).

    Returns:
        A :class:`WrenchDataset`.

    Raises:
        DatasetNotFoundError: the files are not on disk and cannot be downloaded.

    Example:
        >>> yt = load_wrench("youtube")               # doctest: +SKIP
        >>> yt.label_names                            # doctest: +SKIP
        ('HAM', 'SPAM')
    """
    rels = tuple(f"wrench/{name}/{f}" for f in _WRENCH_FILES)
    root = _locate(rels, data_dir, _download_wrench(name))
    folder = root / "wrench" / name
    with open(folder / "label.json", encoding="utf-8") as f:
        label_map = json.load(f)
    label_names = tuple(label_map[str(k)] for k in range(len(label_map)))
    splits = {s: _read_wrench_split(folder / f"{s}.json") for s in ("train", "valid", "test")}
    return WrenchDataset(name=name, label_names=label_names, **splits)


def load_youtube_spam_collection(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Loads the raw YouTube Spam Collection (UCI; 1956 comments on five music videos).

    Args:
        data_dir: directory holding ``youtube_spam_collection/Youtube0*.csv``.
            Defaults to `None` (``$TFSNORKEL_DATA_DIR``, else the download cache).

    Returns:
        A DataFrame with the original columns ``COMMENT_ID, AUTHOR, DATE, CONTENT, CLASS``
        (``CLASS``: 1 = spam, 0 = ham) plus ``video`` (e.g. ``"Psy"``).
    """
    rels = tuple(f"youtube_spam_collection/{f}" for f in _YOUTUBE_FILES)
    root = _locate(rels, data_dir, _download_youtube)
    frames = []
    for file in _YOUTUBE_FILES:
        df = pd.read_csv(root / "youtube_spam_collection" / file)
        df["video"] = file.split("-", 1)[1].removesuffix(".csv")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def load_cfpb_complaints(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Loads the CFPB consumer-complaint sample (6623 rows, official 18-column layout).

    The sample is a fixed extract of the public CFPB complaint database and is read from
    ``$TFSNORKEL_DATA_DIR/cfpb/``; it is not downloaded (the full database is several GB).

    Args:
        data_dir: directory holding ``cfpb/complaints_2019_2020_sample.csv``.
            Defaults to `None` (``$TFSNORKEL_DATA_DIR``).

    Returns:
        The complaints as a DataFrame with the official column names.
    """
    root = data_root(data_dir)
    if root is None or not (root / CFPB_FILE).is_file():
        raise DatasetNotFoundError(
            f"{CFPB_FILE} not found under {root or '$TFSNORKEL_DATA_DIR (unset)'}; "
            "set TFSNORKEL_DATA_DIR to the directory that holds it"
        )
    return pd.read_csv(root / CFPB_FILE, low_memory=False)
