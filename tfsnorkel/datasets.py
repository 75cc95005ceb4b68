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
import re
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
#: A WRENCH set's name: a folder name, nothing that could leave ``wrench/``.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


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
    """Writes a downloaded file into the cache after checking its pinned checksum.

    A file without a pinned checksum is never stored (nor read): every downloaded byte is
    verified.
    """
    from tfsnorkel.outputs import atomic_path

    expected = CHECKSUMS.get(rel)
    if expected is None:
        raise DatasetNotFoundError(
            f"{rel} has no pinned SHA-256, so it cannot be verified and is not downloaded. "
            "Put the file under TFSNORKEL_DATA_DIR instead."
        )
    digest = hashlib.sha256(payload).hexdigest()
    if digest != expected:
        raise DatasetNotFoundError(
            f"checksum mismatch for {rel}: expected sha256 {expected}, got {digest}. "
            "The download is corrupt or the upstream file changed; nothing was cached."
        )
    dest = root / rel
    with atomic_path(dest) as tmp:
        tmp.write_bytes(payload)
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
    if all(r in CHECKSUMS and (cache / r).is_file() and _sha256(cache / r) == CHECKSUMS[r]
           for r in rels):
        return cache
    unpinned = [r for r in rels if r not in CHECKSUMS]
    if unpinned:
        raise DatasetNotFoundError(
            f"{', '.join(unpinned)} not found under "
            f"{root or '$TFSNORKEL_DATA_DIR (unset)'}, and only files with a pinned SHA-256 "
            "are downloaded (every download is verified); put the files under "
            "TFSNORKEL_DATA_DIR (layout in README, 'Data')"
        )
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


def _read_json(path: Path):
    """``json.load`` whose errors name the file (and the line and column)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc})") from None


def _int_label(value, path: Path, i: str, what: str, lo: int, hi: int) -> int:
    """One label from a WRENCH file: an integer (an integral float is one) in ``[lo, hi]``."""
    ok = (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )
    if not ok or not lo <= int(value) <= hi:
        raise ValueError(
            f"{path}: example {i!r} has {what} {value!r}; {what}s must be integers in "
            f"[{lo}, {hi}]. Received: {value!r}"
        )
    return int(value)


def _read_wrench_split(path: Path, cardinality: int) -> WrenchSplit:
    raw = _read_json(path)
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path} holds no examples (expected a JSON object id -> example)")
    ids = list(raw)
    rows, L, y = [], [], []
    width = None
    for i in ids:
        rec = raw[i]
        try:
            rows.append({"id": i, **rec["data"]})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: example {i!r} lacks a 'data' dict") from exc
        if "label" not in rec or not isinstance(rec.get("weak_labels"), list):
            raise ValueError(f"{path}: example {i!r} lacks 'label' or a 'weak_labels' list")
        y.append(_int_label(rec["label"], path, i, "gold label", 0, cardinality - 1))
        votes = [_int_label(v, path, i, "weak label", -1, cardinality - 1)
                 for v in rec["weak_labels"]]
        if width is None:
            width = len(votes)
        elif len(votes) != width:
            raise ValueError(
                f"{path}: example {i!r} has {len(votes)} weak labels, the first example "
                f"{width}. Received: {rec['weak_labels']!r}"
            )
        L.append(votes)
    frame = pd.DataFrame(rows)
    return WrenchSplit(
        frame=frame,
        L=np.asarray(L, dtype=np.int32).reshape(len(ids), width),
        y=np.asarray(y, dtype=np.int32),
    )


def load_wrench(name: str, data_dir: str | os.PathLike | None = None) -> WrenchDataset:
    """Loads a WRENCH classification set (``youtube``, ``sms``, ``trec``, ...).

    Args:
        name: the set's folder name under ``wrench/``.
        data_dir: directory holding ``wrench/<name>/``. Defaults to `None`
            (``$TFSNORKEL_DATA_DIR``, else the download cache).

    Returns:
        A :class:`WrenchDataset`.

    Only the sets in ``WRENCH_SETS`` are downloaded (each file checked against its pinned
    SHA-256); any other set is read from ``data_dir`` / ``$TFSNORKEL_DATA_DIR`` only. Gold
    labels must be integers in ``[0, C-1]`` and weak labels in ``[-1, C-1]`` (``C`` from
    ``label.json``); anything else is refused, naming the file and the example.

    Raises:
        DatasetNotFoundError: the files are not on disk and cannot be downloaded (or the
            set has no pinned checksums).
        ValueError: ``name`` is not a plain folder name (e.g. ``"../x"``); a file is not
            valid JSON or holds a label out of range (named).

    Example:
        >>> yt = load_wrench("youtube")               # doctest: +SKIP
        >>> yt.label_names                            # doctest: +SKIP
        ('HAM', 'SPAM')
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(
            "name must be a WRENCH set's folder name (letters, digits, '_', '-', '.'; no path), "
            f"e.g. one of {list(WRENCH_SETS)}. Received: name={name!r}"
        )
    rels = tuple(f"wrench/{name}/{f}" for f in _WRENCH_FILES)
    root = _locate(rels, data_dir, _download_wrench(name))
    folder = root / "wrench" / name
    label_map = _read_json(folder / "label.json")
    try:
        label_names = tuple(str(label_map[str(k)]) for k in range(len(label_map)))
    except (KeyError, TypeError):
        raise ValueError(
            f"{folder / 'label.json'} must map the class indices '0'..'C-1' to names. "
            f"Received keys: {sorted(label_map) if isinstance(label_map, dict) else label_map!r}"
        ) from None
    if len(label_names) < 2:
        raise ValueError(f"{folder / 'label.json'} names fewer than 2 classes")
    splits = {s: _read_wrench_split(folder / f"{s}.json", len(label_names))
              for s in ("train", "valid", "test")}
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
