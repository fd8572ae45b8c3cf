"""Shared fixtures: seeded generators, the repository root, and the real Omniglot files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def omniglot_dir() -> Path:
    """``$METALEARN_DATA/omniglot`` with the three official zips, or skip with the reason."""
    data = os.environ.get("METALEARN_DATA")
    if not data:
        pytest.skip("real Omniglot not available: set METALEARN_DATA to the folder holding omniglot/")
    folder = Path(data) / "omniglot"
    missing = [n for n in ("images_background_small1.zip", "images_background_small2.zip", "all_runs.zip")
               if not (folder / n).is_file()]
    if missing:
        pytest.skip(f"real Omniglot not available: {missing} missing in {folder}")
    return folder


@pytest.fixture
def one_thread():
    """Run a test on one intra-op thread, then restore the setting.

    Tiny recurrent steps (NTM, MANN) gain nothing from two threads and, on a shared CPU, the
    threads' synchronisation can make them many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
