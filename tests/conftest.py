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


@pytest.fixture
def tiny_chapter(tmp_path) -> Path:
    """A small notebook that follows the exercise convention and runs in a second (no torch).

    Two code exercises (``ex-99-mean``, ``ex-99-norm``) with solutions and checks, and one prose
    exercise (``ex-99-why``), in ``tmp_path/notebooks/99_tiny.ipynb``.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [
        new_markdown_cell("# 99. A tiny chapter (小章节)\n\nRuns in about a second on two CPU cores; no GPU."),
        new_code_cell("numbers = [3, 1, 2]\nassert sorted(numbers) == [1, 2, 3]"),
        new_markdown_cell(
            "## Exercises\n\n:::{exercise} ex-99-mean\n:label: ex-99-mean\n:nonumber:\nWrite `mean(values)`.\n:::\n\n"
            "```{solution-start} ex-99-mean\n:class: dropdown\n```"
        ),
        new_code_cell(
            'def mean(values: list[float]) -> float:\n    """The arithmetic mean of ``values``."""\n'
            "    total = sum(values)\n    return total / len(values)",
            metadata={"tags": ["solution"]},
        ),
        new_markdown_cell("Dividing the SECRET-PROSE total by the count is all.\n\n```{solution-end}\n```"),
        new_code_cell('assert mean(numbers) == 2, "the mean of 3, 1, 2 should be 2"', metadata={"tags": ["check"]}),
        new_markdown_cell(
            ":::{exercise} ex-99-norm\n:label: ex-99-norm\n:nonumber:\nWrite `norm(x)`.\n:::\n\n"
            "```{solution-start} ex-99-norm\n:class: dropdown\n```"
        ),
        new_code_cell(
            'import math\n\n\ndef norm(x):\n    """Euclidean norm."""\n    return math.sqrt(sum(v * v for v in x))'
            "\n\n\nprint(norm([3, 4]))",
            metadata={"tags": ["solution"]},
        ),
        new_markdown_cell("```{solution-end}\n```"),
        new_code_cell('assert abs(norm([3, 4]) - 5) < 1e-12, "the norm of (3, 4) should be 5"',
                      metadata={"tags": ["check"]}),
        new_markdown_cell(
            ":::{exercise} ex-99-why\n:label: ex-99-why\n:nonumber:\nWhy?\n:::\n\n"
            ":::{solution} ex-99-why\n:class: dropdown\n"
            "Because of SECRET-PROSE.\n:::\n\n## References\n\nNone."
        ),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    path = tmp_path / "notebooks" / "99_tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path
