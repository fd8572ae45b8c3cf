"""Finding a dataset's files on disk, or downloading them once, checked and written atomically.

A file named ``name`` of dataset ``dataset`` is looked for in ``$METALEARN_DATA/<dataset>`` (the
folder a course or CI provides), then in the cache ``$XDG_CACHE_HOME/metalearn_lite/<dataset>``
(``~/.cache/...``), and downloaded into the cache otherwise. Every file found is checked against
its SHA-256 before use; a download goes to a temporary ``.part`` file beside its destination and
is renamed only once its checksum matches, so an interrupted download never leaves a half-written
file under the real name (and leftovers of killed downloads are removed on the next attempt).

Used by :mod:`~metalearn_lite.data.omniglot`; introduced in §1 (``notebooks/01_introduction.ipynb``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

__all__ = ["DataNotFoundError", "cache_dir", "download", "find_or_download", "search_dirs", "sha256"]


class DataNotFoundError(FileNotFoundError):
    """A dataset's file is not on disk and could not be downloaded (the message says where it looked)."""


def cache_dir(dataset: str) -> Path:
    """Where downloads of ``dataset`` go: ``$XDG_CACHE_HOME/metalearn_lite/<dataset>`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "metalearn_lite" / dataset


def search_dirs(dataset: str) -> list[Path]:
    """The folders searched, in order: ``$METALEARN_DATA/<dataset>`` (when set), then :func:`cache_dir`.

    Raises:
        NotADirectoryError: ``METALEARN_DATA`` is set to something that is not a folder (a typo would
            otherwise be ignored silently).
    """
    dirs = []
    data = os.environ.get("METALEARN_DATA")
    if data:
        if not Path(data).is_dir():
            raise NotADirectoryError(f"METALEARN_DATA={data!r} is not a folder; point it to the folder that holds "
                                     f"{dataset}/, or unset it")
        dirs.append(Path(data) / dataset)
    dirs.append(cache_dir(dataset))
    return dirs


def sha256(path: Path) -> str:
    """The SHA-256 of a file, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, expected_sha256: str, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` atomically and check its SHA-256.

    The bytes go to a temporary ``.part`` file beside ``dest`` that is renamed only once the checksum
    matches; ``.part`` files left by earlier, killed downloads of ``dest`` are removed first.

    Raises:
        ValueError: the downloaded bytes do not have the expected checksum (the message names the URL).
        urllib.error.URLError: the server could not be reached.
        PermissionError: ``dest``'s folder cannot be written (the message names it).
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for stale in dest.parent.glob(f".{dest.name}.*.part"):
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except PermissionError as err:
        raise PermissionError(f"cannot write into {dest.parent} to download {url}: {err}. Make the folder "
                              "writable, set XDG_CACHE_HOME to a writable folder, or set METALEARN_DATA to a "
                              "folder holding the files") from err
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        actual = sha256(tmp)
        if actual != expected_sha256:
            raise ValueError(f"checksum mismatch for {url}: expected SHA-256 {expected_sha256}, got {actual}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def find_or_download(
    name: str,
    dataset: str,
    url: str,
    expected_sha256: str,
    allow_download: bool = True,
    not_found: type[DataNotFoundError] = DataNotFoundError,
) -> Path:
    """The local path of ``name``: the first intact copy in :func:`search_dirs`, else a fresh download.

    Raises:
        ValueError: the first copy on disk is corrupt (wrong checksum); the message names it, and the
            intact copy further down the search path when there is one.
        not_found: the file is nowhere on disk and could not be downloaded; the message lists where it
            looked, the URL, and how to get the file by hand.
    """
    folders = search_dirs(dataset)
    corrupt: Path | None = None
    for folder in folders:
        path = folder / name
        if path.is_file():
            if sha256(path) != expected_sha256:
                corrupt = corrupt or path
            elif corrupt is None:
                return path
            else:  # a corrupt copy shadows an intact one: never pick silently
                raise ValueError(f"{corrupt} is corrupt (SHA-256 differs from {expected_sha256}), and an intact "
                                 f"copy is at {path}: delete or replace the corrupt file, or unset METALEARN_DATA")
    if corrupt is not None:
        raise ValueError(f"{corrupt} is corrupt (SHA-256 differs from {expected_sha256}); delete it and retry "
                         f"(it is downloaded again from {url})")
    looked = ", ".join(str(d) for d in folders)
    how = (f"Download {url} into one of those folders, or set METALEARN_DATA to a folder whose {dataset}/ "
           "subfolder holds it.")
    if not allow_download:
        raise not_found(f"{name} not found (looked in: {looked}). {how}")
    try:
        return download(url, cache_dir(dataset) / name, expected_sha256)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        raise not_found(f"{name} not found (looked in: {looked}) and the download from {url} failed ({err}). "
                        f"{how}") from err
