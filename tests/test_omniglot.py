"""Omniglot loading on the real files (skipped with a reason when absent) and the download path
against an HTTP server on loopback that the tests start themselves."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
import torch

from metalearn_lite.data import omniglot
from metalearn_lite.evaluation import score_runs


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def empty_env(tmp_path, monkeypatch):
    """No METALEARN_DATA and an empty cache folder."""
    monkeypatch.delenv("METALEARN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "omniglot")
    return buffer.getvalue()


def test_download_is_verified_and_atomic(tmp_path, serve):
    payload = small_zip()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "small.zip").write_bytes(payload)
    url = serve(tmp_path / "www") + "small.zip"
    dest = tmp_path / "out" / "small.zip"

    good = hashlib.sha256(payload).hexdigest()
    assert omniglot.download(url, dest, good, progress=False) == dest
    assert dest.read_bytes() == payload

    other = tmp_path / "out" / "other.zip"
    with pytest.raises(ValueError, match="checksum mismatch"):
        omniglot.download(url, other, "0" * 64, progress=False)
    assert not other.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["small.zip"], "no partial files left"


def test_fetch_downloads_into_cache_from_server(empty_env, serve, omniglot_dir):
    # The server mirrors the official layout (python/ and python/one-shot-classification/).
    www = empty_env / "www"
    (www / "one-shot-classification").mkdir(parents=True)
    for name, (rel, _) in omniglot.FILES.items():
        (www / rel).write_bytes((omniglot_dir / name).read_bytes())
    base = serve(www)
    path = omniglot.fetch("all_runs.zip", base_url=base)
    assert path == omniglot.cache_dir() / "all_runs.zip"
    assert path.parent.parent.parent == empty_env / "cache"
    # a second fetch finds the cached file without any server
    assert omniglot.fetch("all_runs.zip", base_url="http://127.0.0.1:9/") == path


def test_missing_data_and_unreachable_server_is_a_clear_error(empty_env):
    with pytest.raises(omniglot.OmniglotNotFoundError) as info:
        omniglot.fetch("all_runs.zip", base_url="http://127.0.0.1:9/")
    message = str(info.value)
    assert "looked in" in message and str(omniglot.cache_dir()) in message
    assert "METALEARN_DATA" in message and "download" in message
    with pytest.raises(omniglot.OmniglotNotFoundError, match="not found"):
        omniglot.fetch("all_runs.zip", allow_download=False)


def test_corrupt_file_on_disk_is_reported(empty_env, monkeypatch):
    data = empty_env / "data"
    (data / "omniglot").mkdir(parents=True)
    (data / "omniglot" / "all_runs.zip").write_bytes(b"not the real file")
    monkeypatch.setenv("METALEARN_DATA", str(data))
    with pytest.raises(ValueError, match="corrupt"):
        omniglot.load_runs()


def test_unreadable_zip_is_reported(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="not a readable zip"):
        omniglot._open_zip(bad)


def test_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        omniglot.fetch("images_evaluation.zip")


@pytest.fixture(scope="module")
def background(omniglot_dir):
    return omniglot.load_background(size=28, allow_download=False)


def test_background_contents(background):
    assert background.images.shape == (4840, 1, 28, 28)
    assert background.images.dtype == torch.float32
    assert 0 <= background.images.min() and background.images.max() <= 1
    ink = background.images.mean().item()
    assert 0.03 < ink < 0.2, "ink is 1 and sparse; background is 0"
    assert torch.bincount(background.labels).tolist() == [20] * 242
    assert len(background.alphabets) == 8
    counts = {a: sum(1 for x, _ in background.characters if x == a) for a in background.alphabets}
    assert counts["Greek"] == 24 and counts["Latin"] == 26, "alphabets in both splits appear once"


def test_other_size_and_split(background):
    small = omniglot.load_background(size=14, allow_download=False)
    assert small.images.shape == (4840, 1, 14, 14)
    train, test = background.split(["Sanskrit", "Tagalog"])
    assert test.alphabets == ("Sanskrit", "Tagalog")
    assert len(train.characters) + len(test.characters) == 242
    assert not set(train.characters) & set(test.characters)
    assert train.labels.max() == len(train.characters) - 1
    # relabelling keeps images with their characters
    first = test.characters[0]
    original = background.characters.index(first)
    assert torch.equal(test.images[test.labels == 0], background.images[background.labels == original])
    with pytest.raises(ValueError, match="unknown alphabets"):
        background.select_alphabets(["Klingon"])


def test_split_characters_mixes_alphabets_and_keeps_images(background):
    train, test = background.split_characters(0.25, torch.Generator().manual_seed(0))
    assert len(test.characters) == 60 and len(train.characters) == 182
    assert not set(train.characters) & set(test.characters)
    assert len(test.alphabets) == 8, "a random quarter of 242 characters touches every alphabet"
    assert torch.bincount(test.labels).tolist() == [20] * 60
    c = 7
    original = background.characters.index(test.characters[c])
    assert torch.equal(test.images[test.labels == c], background.images[background.labels == original])
    again = background.split_characters(0.25, torch.Generator().manual_seed(0))[1]
    assert again.characters == test.characters
    with pytest.raises(ValueError, match="test_fraction"):
        background.split_characters(1.0)


def test_rotations(background):
    latin = background.select_alphabets(["Latin"])
    rotated = latin.with_rotations()
    n = len(latin.characters)
    assert len(rotated.characters) == 4 * n and len(rotated) == 4 * len(latin)
    c = 3
    assert torch.equal(rotated.images[rotated.labels == c + n], torch.rot90(latin.images[latin.labels == c], 1, (2, 3)))
    assert rotated.characters[c + 2 * n][1].endswith("_rot180")


def test_official_runs(omniglot_dir):
    runs = omniglot.load_runs(allow_download=False)
    assert len(runs) == 20
    for run in runs:
        assert run.x_train.shape == (20, 1, 28, 28) and run.x_test.shape == (20, 1, 28, 28)
        assert sorted(run.y_test.tolist()) == list(range(20)), "each training drawing is the answer once"
    assert score_runs(lambda task: task.y_query, runs) == 0.0
    assert score_runs(lambda task: (task.y_query + 1) % 20, runs) == 1.0
    with pytest.raises(ValueError, match="predict must return"):
        score_runs(lambda task: task.y_query[:5], runs)
