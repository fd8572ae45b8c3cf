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

__all__ = ["NOTEBOOK_NAME", "book_problems", "chapter_map", "notebook_problems", "package_problems", "toc_files"]

NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SECTION = re.compile(r"^# (\d(?:\.\d)?)\.? ")
# How the package and the README point to a chapter: "§3.3 (``notebooks/05_gradient_based.ipynb``)",
# the section number followed by the notebook (a line break may fall between them).
CHAPTER_REFERENCE = re.compile(r"§(\d(?:\.\d)?)\s+\(``notebooks/([0-9a-z_]+\.ipynb)``\)")
_OLD_REFERENCE = re.compile(r"\b[Cc]hapters? \d")
# Modules whose docstring names no chapter: the package index (it holds the whole chapter map) and the
# argument checks, which every chapter's code runs through and none teaches.
NO_CHAPTER = {"__init__.py", "checks.py"}


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


def chapter_map(root: str | Path = ".") -> dict[str, str]:
    """Section number -> notebook file name, read from each notebook's title ("# 3.3 ...")."""
    import nbformat

    sections = {}
    for path in sorted((Path(root) / "notebooks").glob("*.ipynb")):
        title = nbformat.read(path, as_version=4).cells[0].source
        match = _SECTION.match(title)
        if match:
            sections[match.group(1)] = path.name
    return sections


def package_problems(root: str | Path = ".") -> list[str]:
    """Where the package (``metalearn_lite/``, instructor tools aside) or the README breaks the one
    chapter-reference scheme: "§3.3 (``notebooks/05_gradient_based.ipynb``)" with the right notebook,
    no "chapter 3.3" left, and a chapter named in every module's docstring (except :data:`NO_CHAPTER`)."""
    import ast

    root = Path(root)
    sections = chapter_map(root)
    problems = []
    sources = [p for p in sorted((root / "metalearn_lite").rglob("*.py")) if "course" not in p.parts]
    for path in [*sources, root / "README.md"]:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root)
        for match in _OLD_REFERENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{name}:{line}: write '§N (``notebooks/NN_name.ipynb``)', not {match.group(0)!r}")
        for match in CHAPTER_REFERENCE.finditer(text):
            section, notebook = match.groups()
            if sections.get(section) != notebook:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{name}:{line}: §{section} is {sections.get(section, 'no chapter')}, not {notebook}")
        if path.suffix == ".py" and path.name not in NO_CHAPTER:
            if not CHAPTER_REFERENCE.search(ast.get_docstring(ast.parse(text)) or ""):
                problems.append(f"{name}: the module docstring names no chapter (§N (``notebooks/...``))")
    return problems
