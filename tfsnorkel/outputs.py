"""Writing outputs safely: atomic files and directories, run manifests, one writer at a time.

Every file tfsnorkel writes goes to a temporary name in the destination's own directory and is
renamed into place (``os.replace``) only once it is complete, so a full disk, an I/O error or a
killed process leaves the previous file intact and never a truncated one:

* :func:`atomic_path` / :func:`atomic_dir`: a temporary path to write to (by any library:
  ``np.save``, ``keras.Model.save``, ``tf.saved_model.save``), moved into place on success and
  removed on failure. A directory is swapped in with two renames (old aside, new in, old
  removed); only a process killed between those two renames leaves the old directory under a
  hidden ``.<name>.old-*`` name instead of ``<name>``.
* :func:`save_npy`, :func:`write_text`, :func:`write_csv`: the common cases.
* :class:`OutputLock`: an exclusive advisory lock (``flock``) on an output directory or file;
  a second writer gets :class:`OutputLockedError` at once, naming the holder. The kernel
  drops the lock when its process dies, so a killed run never leaves a stale lock.
* :func:`write_manifest` / :func:`verify_run`: a run directory's manifest
  (``run_manifest.json``) is written first as ``"status": "running"`` and last as
  ``"complete"``, listing every file of the run with its size and SHA-256 and the tfsnorkel
  version; :func:`verify_run` tells a complete, untouched run from an interrupted or altered one.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = save_npy(d / "L.npy", np.zeros((2, 3), np.int32))
    >>> m = write_manifest(d, ["L.npy"])
    >>> verify_run(d)["files"]["L.npy"]["bytes"]
    152
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "IncompleteRunError",
    "MANIFEST_NAME",
    "OutputLock",
    "OutputLockedError",
    "atomic_dir",
    "atomic_path",
    "file_sha256",
    "save_npy",
    "verify_run",
    "write_csv",
    "write_manifest",
    "write_text",
]

#: The manifest's file name inside a run directory.
MANIFEST_NAME = "run_manifest.json"
#: The lock file's name inside a locked directory.
LOCK_NAME = ".tfsnorkel.lock"
MANIFEST_FORMAT = "tfsnorkel-run/1"

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class OutputLockedError(RuntimeError):
    """Another process (or another writer in this one) is writing to the same output."""


class IncompleteRunError(ValueError):
    """A run directory is incomplete or altered: no manifest, a run that never finished,
    or a listed file missing or changed since it was written."""


def _tmp_name(dest: Path, kind: str) -> Path:
    # The destination's suffix stays last: np.save and keras.Model.save insist on it.
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return dest.parent / f".{dest.stem}.{kind}-{token}{dest.suffix}"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not supported (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary file path beside ``dest``; renames it to ``dest`` when the block succeeds.

    On any exception (a full disk, an interrupt) the temporary file is removed and ``dest``
    keeps its previous content.

    Args:
        dest: the final file path (its parent directory is created).

    Yields:
        The temporary path to write (same directory and suffix as ``dest``).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_path(p) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> p.read_text()
        'hello'
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"cannot write a file over a directory. Received: dest={str(dest)!r}"
        )
    tmp = _tmp_name(dest, "tmp")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp}")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(dest.parent)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary directory beside ``dest``; swaps it in for ``dest`` on success.

    The previous ``dest`` (if any) is kept until the new one is complete, then moved aside and
    removed. On an exception the temporary directory is removed and ``dest`` is untouched.

    Args:
        dest: the final directory (e.g. a SavedModel's).

    Yields:
        The temporary directory's path (it does not exist yet; writers such as
        ``tf.saved_model.save`` create it).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()) / "model"
        >>> with atomic_dir(d) as tmp:
        ...     tmp.mkdir(); _ = (tmp / "x").write_text("1")
        >>> sorted(p.name for p in d.iterdir())
        ['x']
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"cannot write a directory over a file. Received: dest={str(dest)!r}",
        )
    tmp = _tmp_name(dest, "tmp")
    try:
        yield tmp
        if not tmp.is_dir():
            raise FileNotFoundError(f"nothing was written to the temporary directory {tmp}")
        old = None
        if dest.exists():
            old = _tmp_name(dest, "old")
            os.replace(dest, old)
        os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(dest.parent)


def save_npy(path: str | os.PathLike, array: Any) -> Path:
    """``np.save`` atomically (no pickles).

    Args:
        path: destination (``.npy``).
        array: the array.

    Returns:
        The destination path.
    """
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Writes UTF-8 text atomically.

    Args:
        path: destination.
        text: the content.

    Returns:
        The destination path.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_csv(path: str | os.PathLike, frame: Any, **kwargs: Any) -> Path:
    """``DataFrame.to_csv`` atomically.

    Args:
        path: destination.
        frame: a pandas DataFrame.
        **kwargs: passed to ``to_csv``.

    Returns:
        The destination path.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)
    return path


# ----------------------------------------------------------------------------- locking
class OutputLock:
    """An exclusive, non-blocking lock on an output (a directory, or a file's name).

    For a directory the lock file is ``<dir>/.tfsnorkel.lock``; for a file
    ``<parent>/.<name>.lock``. It holds the holder's pid and host, for the error message.
    Use as a context manager.

    Args:
        target: the output directory or file.
        is_dir: whether ``target`` is a directory. Defaults to `True`.

    Raises:
        OutputLockedError: another writer holds the lock (on entering).

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with OutputLock(d):
        ...     with OutputLock(d):
        ...         pass
        Traceback (most recent call last):
        ...
        tfsnorkel.outputs.OutputLockedError: ...
    """

    def __init__(self, target: str | os.PathLike, is_dir: bool = True) -> None:
        target = Path(target)
        self.target = target
        self.path = target / LOCK_NAME if is_dir else target.parent / f".{target.name}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock or raises :class:`OutputLockedError`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            try:  # the file may have been unlinked by a holder releasing it meanwhile
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
                self._fd = fd
                return
            os.close(fd)
        raise OutputLockedError(f"could not take the lock {self.path} (it keeps changing)")

    def _lock(self, fd: int) -> None:
        if fcntl is None:  # pragma: no cover - no flock: exclusive creation only
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            except OSError:  # pragma: no cover
                holder = "unknown"
            raise OutputLockedError(
                f"another tfsnorkel process is writing to {self.target} (lock {self.path}, "
                f"held by pid/host {holder}); wait for it to finish or choose another output. "
                f"Received: {str(self.target)!r}"
            ) from None

    def release(self) -> None:
        """Releases the lock (and removes the lock file)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# ----------------------------------------------------------------------------- manifests
def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file, read in 1 MiB chunks.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "e"; _ = p.write_bytes(b"")
        >>> file_sha256(p)[:12]
        'e3b0c44298fc'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _expand(root: Path, names: Iterable[str]) -> list[str]:
    files = []
    for name in names:
        p = root / name
        if p.is_dir():
            files += sorted(q.relative_to(root).as_posix() for q in p.rglob("*") if q.is_file())
        elif p.is_file():
            files.append(Path(name).as_posix())
        else:
            raise FileNotFoundError(f"the run lists {name!r}, which {root} lacks")
    return files


def _version() -> str:
    from tfsnorkel import __version__

    return __version__


def write_manifest(
    run_dir: str | os.PathLike,
    outputs: Iterable[str] = (),
    *,
    status: str = "complete",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Writes ``run_manifest.json`` (atomically) describing a run directory.

    Args:
        run_dir: the directory.
        outputs: the run's outputs, relative to ``run_dir`` (files or directories; a
            directory lists every file inside it).
        status: ``"running"`` (written first: a reader then knows the run has not finished)
            or ``"complete"`` (written last). Defaults to `"complete"`.
        extra: more JSON-serializable facts to record (e.g. the run's arguments).
            Defaults to `None`.

    Returns:
        The manifest as a dict.
    """
    if status not in ("running", "complete"):
        raise ValueError(f"status must be 'running' or 'complete'. Received: status={status!r}")
    root = Path(run_dir)
    files = {
        rel: {"bytes": (root / rel).stat().st_size, "sha256": file_sha256(root / rel)}
        for rel in _expand(root, outputs)
    }
    manifest = {
        "format": MANIFEST_FORMAT,
        "status": status,
        "tfsnorkel_version": _version(),
        "written_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "outputs": sorted(Path(o).as_posix() for o in outputs),
        "files": files,
        **(extra or {}),
    }
    write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def verify_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Checks that a run directory holds a complete run, every file as it was written.

    Args:
        run_dir: a directory written by :func:`tfsnorkel.run_pipeline` (or ``tfsnorkel
            pipeline``).

    Returns:
        The manifest (``status``, ``tfsnorkel_version``, ``files`` with sizes and SHA-256).

    Raises:
        IncompleteRunError: no manifest (never written, or the run was interrupted before
            its first write), ``status`` still ``"running"`` (interrupted), or a listed file
            missing, resized or changed (the message names it).

    Example:
        >>> import tempfile
        >>> verify_run(tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        tfsnorkel.outputs.IncompleteRunError: ...
    """
    root = Path(run_dir)
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise IncompleteRunError(
            f"{root} holds no {MANIFEST_NAME}: not a finished tfsnorkel run. "
            f"Received: run_dir={str(root)!r}"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IncompleteRunError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise IncompleteRunError(
            f"{path} is not a tfsnorkel run manifest. "
            f"Received: format={manifest.get('format') if isinstance(manifest, dict) else None!r}"
        )
    if manifest.get("status") != "complete":
        raise IncompleteRunError(
            f"the run in {root} did not finish (manifest status {manifest.get('status')!r}): "
            f"it was interrupted or is still running. Received: run_dir={str(root)!r}"
        )
    for rel, meta in sorted(manifest.get("files", {}).items()):
        p = root / rel
        if not p.is_file():
            raise IncompleteRunError(f"{root}: {rel} is listed in the manifest but missing")
        if p.stat().st_size != meta["bytes"] or file_sha256(p) != meta["sha256"]:
            raise IncompleteRunError(
                f"{root}: {rel} changed since the run wrote it (size or SHA-256 differs from "
                "the manifest)"
            )
    return manifest
