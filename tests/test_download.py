"""Data faults a user meets, each with an error that says what is wrong and what to do
(``metalearn_lite.data.download``); the happy path is tested in ``test_omniglot.py``."""

from __future__ import annotations

import hashlib
import os

import pytest

from metalearn_lite.data import download

PAYLOAD = b"some dataset bytes"
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("METALEARN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_metalearn_data_pointing_to_a_file_is_refused(env, monkeypatch):
    (env / "data.zip").write_bytes(PAYLOAD)
    monkeypatch.setenv("METALEARN_DATA", str(env / "data.zip"))
    with pytest.raises(NotADirectoryError, match="METALEARN_DATA=.*data.zip.* is not a folder"):
        download.find_or_download("x.bin", "demo", "http://127.0.0.1:9/x.bin", SHA, allow_download=False)


def test_a_corrupt_copy_shadowing_an_intact_one_names_both(env, monkeypatch):
    (env / "data" / "demo").mkdir(parents=True)
    (env / "data" / "demo" / "x.bin").write_bytes(b"damaged")
    download.cache_dir("demo").mkdir(parents=True)
    (download.cache_dir("demo") / "x.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("METALEARN_DATA", str(env / "data"))
    with pytest.raises(ValueError, match=r"data/demo/x.bin is corrupt .* an intact copy is at .*cache"):
        download.find_or_download("x.bin", "demo", "http://127.0.0.1:9/x.bin", SHA, allow_download=False)
    monkeypatch.delenv("METALEARN_DATA")
    assert download.find_or_download("x.bin", "demo", "u", SHA, allow_download=False).read_bytes() == PAYLOAD


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_a_read_only_cache_gives_the_loaders_own_error(env):
    cache = download.cache_dir("demo")
    cache.mkdir(parents=True)
    cache.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot write into .* XDG_CACHE_HOME .* METALEARN_DATA"):
            download.download("http://127.0.0.1:9/x.bin", cache / "x.bin", SHA, progress=False)
    finally:
        cache.chmod(0o700)


def test_a_read_only_cache_as_root_is_simulated(env, monkeypatch):
    """As root, chmod does not stop writes: simulate the failure where the temporary file is made."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(download.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="cannot write into .*demo to download http"):
        download.download("http://127.0.0.1:9/x.bin", download.cache_dir("demo") / "x.bin", SHA, progress=False)


def test_leftovers_of_a_killed_download_are_removed(env):
    cache = download.cache_dir("demo")
    cache.mkdir(parents=True)
    stale = cache / ".x.bin.abc123.part"
    stale.write_bytes(b"half")
    with pytest.raises(OSError):  # nothing listens on port 9: the download fails, after the cleanup
        download.download("http://127.0.0.1:9/x.bin", cache / "x.bin", SHA, progress=False)
    assert not stale.exists()
    assert list(cache.iterdir()) == []
