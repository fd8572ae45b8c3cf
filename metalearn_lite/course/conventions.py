"""The rules every chapter notebook follows, as a checker that lists what a notebook breaks.

``tests/test_notebooks.py`` runs :func:`book_problems` on the repository and on deliberately broken
notebooks, so a rule that silently stops working is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .config import SETUP_CELL_TAG, BookConfig
from .exercises import exercise_problems, parse_exercises

__all__ = ["NOTEBOOK_NAME", "book_problems", "notebook_problems", "toc_files"]

NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _walk_toc(node) -> Iterator[str]:
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                yield str(node[key])
        for value in node.values():
            if isinstance(value, list | dict):
                yield from _walk_toc(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_toc(item)


def toc_files(root: str | Path = ".") -> list[str]:
    """Every document named in ``_toc.yml`` (paths without extension, as the toc writes them)."""
    import yaml

    with open(Path(root) / "_toc.yml", encoding="utf-8") as f:
        return [re.sub(r"\.(md|ipynb)$", "", p) for p in _walk_toc(yaml.safe_load(f))]


def notebook_problems(path: str | Path, config: BookConfig, toc: list[str] | None = None) -> list[str]:
    """What ``path`` breaks of the notebook conventions (an empty list when nothing).

    Args:
        path: a chapter notebook.
        config: the book's repository (from ``_config.yml``); the badge and install cell must match.
        toc: the entries of ``_toc.yml``; when given, the notebook must be one of them.
    """
    import nbformat

    path = Path(path)
    problems: list[str] = []
    if not NOTEBOOK_NAME.match(path.name):
        problems.append(f"file name {path.name!r} is not NN_slug.ipynb (lower case, digits, _)")
    if toc is not None and f"notebooks/{path.stem}" not in toc:
        problems.append(f"notebooks/{path.stem} is not listed in _toc.yml")
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    if len(cells) < 3:
        return problems + ["needs at least a title cell, the setup cell and some content"]

    title = cells[0]
    first_line = title.source.strip().splitlines()[0] if title.source.strip() else ""
    if title.cell_type != "markdown" or not first_line.startswith("# "):
        problems.append("cell 1 must be markdown starting with '# <English title> (<Chinese heading>)'")
    elif not _CJK.search(first_line):
        problems.append("the title must carry the article's Chinese heading")
    if config.colab_badge(path) not in title.source:
        problems.append(f"cell 1 must contain the Colab badge {config.colab_badge(path)}")

    setup = cells[1]
    if setup.cell_type != "code" or SETUP_CELL_TAG not in setup.metadata.get("tags", []):
        problems.append(f"cell 2 must be the Colab setup code cell tagged {SETUP_CELL_TAG!r}")
    elif setup.source.strip() != config.setup_cell().strip():
        problems.append("cell 2 differs from the setup cell derived from _config.yml (run retarget)")

    code = [c for c in cells if c.cell_type == "code"]
    if any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        problems.append("stored outputs or execution counts: strip them before committing")
    if not any("seed_everything(" in c.source for c in code):
        problems.append("no cell calls seed_everything(...): results must be deterministic")
    if not any(re.search(r"^#+ .*Exercises", c.source, re.M) for c in cells if c.cell_type == "markdown"):
        problems.append("no 'Exercises' section")
    exercise_issues = exercise_problems(nb)
    problems += exercise_issues
    if not exercise_issues:
        count = len(parse_exercises(nb))
        if not 3 <= count <= 5:
            problems.append(f"{count} exercises: a chapter ends with 3 to 5 (sphinx-exercise directives)")
    if not re.search(r"runs in", title.source, re.I) or "CPU" not in title.source:
        problems.append("cell 1 must state the running time on CPU, e.g. 'Runs in about 2 minutes on two CPU cores'")
    if not any("GPU" in c.source for c in cells[:6]):
        problems.append("the first cells must say what a GPU changes (e.g. a SCALE knob, or 'no GPU needed')")
    if not any(re.search(r"^\s*assert ", c.source, re.M) for c in code):
        problems.append("no assert: a chapter's claims must be checked when it runs")
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append("kernelspec must be python3")
    return problems


def book_problems(root: str | Path = ".") -> list[str]:
    """Problems of every notebook under ``root/notebooks`` plus toc entries that do not exist."""
    root = Path(root)
    config = BookConfig.load(root)
    toc = toc_files(root)
    problems = []
    for entry in toc:
        if not any((root / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")):
            problems.append(f"_toc.yml lists {entry}, which does not exist")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        problems += [f"{path.name}: {p}" for p in notebook_problems(path, config, toc)]
    return problems
