"""Retargeting a fork: _config.yml (comments kept), every badge and install cell, idempotently."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.config import BookConfig
from metalearn_lite.course.conventions import book_problems
from metalearn_lite.course.retarget import retarget, set_repository

FORK = "https://github.com/prof-example/meta-course-2027"


@pytest.fixture
def book(tmp_path, repo_root):
    """A copy of the book's sources (configuration, pages, notebooks) to retarget."""
    for name in ("_config.yml", "_toc.yml", "CITATION.cff", "pyproject.toml"):
        shutil.copy(repo_root / name, tmp_path / name)
    # a README that names the configured repository (a fork's README may still name the original)
    (tmp_path / "README.md").write_text(f"pip install git+{BookConfig.load(repo_root).repo_url}\n")
    shutil.copytree(repo_root / "book", tmp_path / "book")
    shutil.copytree(repo_root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py", ".*"))
    assert book_problems(tmp_path) == []
    return tmp_path


def _snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_retarget_to_a_fork_makes_every_notebook_agree(book, capsys):
    original = BookConfig.load(book)
    if original.repo_url == FORK:  # a fork that took this very name: retarget elsewhere
        book_fork, branch = "https://github.com/another-prof/meta-course-2028", "spring-2028"
    else:
        book_fork, branch = FORK, "fall-2027"
    comments = [line for line in (book / "_config.yml").read_text().splitlines() if line.lstrip().startswith("#")]

    assert main(["retarget", book_fork, "--branch", branch, "--root", str(book)]) == 0
    out = capsys.readouterr().out
    assert f"repository: {book_fork} (branch {branch})" in out
    assert "updated" in out and "README.md" in out  # the README still names the original; listed

    config = BookConfig.load(book)
    assert (config.repo_url, config.branch, config.path_to_book) == (book_fork, branch, original.path_to_book)
    text = (book / "_config.yml").read_text()
    assert all(line in text.splitlines() for line in comments), "comments in _config.yml survive"
    assert book_problems(book) == [], "every badge and install cell agrees with _config.yml"
    for path in sorted((book / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        owner_repo = book_fork.removeprefix("https://github.com/")
        colab = f"colab.research.google.com/github/{owner_repo}/blob/colab-{branch}/notebooks/"  # the Colab edition
        assert colab + path.name in nb.cells[0].source
        assert f'"metalearn-lite @ git+https://github.com/{owner_repo}.git@{branch}"' in nb.cells[1].source
        assert original.owner_repo not in nb.cells[0].source + nb.cells[1].source

    before = _snapshot(book)
    assert main(["retarget", book_fork, "--branch", branch, "--root", str(book)]) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert _snapshot(book) == before, "a second retarget changes nothing"

    assert main(["retarget", book_fork, "--root", str(book)]) == 0  # no --branch: the branch stays
    assert BookConfig.load(book).branch == branch and _snapshot(book) == before


def test_retarget_back_restores_the_original_bytes(book, repo_root):
    before = _snapshot(book)
    original = BookConfig.load(book)
    retarget(book, FORK, "v2")
    assert _snapshot(book) != before
    retarget(book, original.repo_url, original.branch)
    assert _snapshot(book) == before


@pytest.mark.parametrize(("url", "branch"), [("https://gitlab.com/a/b", None), (FORK, "two words")])
def test_retarget_rejects_what_colab_cannot_open_and_writes_nothing(book, capsys, url, branch):
    before = _snapshot(book)
    with pytest.raises(SystemExit) as exit_info:
        main(["retarget", url, "--root", str(book)] + (["--branch", branch] if branch else []))
    assert exit_info.value.code == 2
    assert "error: " in capsys.readouterr().err
    assert _snapshot(book) == before


def test_retarget_writes_nothing_when_a_notebook_has_no_badge(book):
    path = sorted((book / "notebooks").glob("*.ipynb"))[0]
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.split("[![Open In Colab]")[0]
    nbformat.write(nb, path)
    before = _snapshot(book)
    with pytest.raises(ValueError, match="no 'Open In Colab' badge"):
        retarget(book, FORK)
    assert _snapshot(book) == before


def test_retarget_needs_a_book_root(tmp_path):
    with pytest.raises(ValueError, match="no _config.yml"):
        retarget(tmp_path, FORK)


def test_set_repository_edits_text_only_where_needed():
    text = "title: x  # keep\nrepository:\n  # the fork\n  url: https://github.com/a/b  # here\n\nhtml:\n  x: 1\n"
    new = set_repository(text, "https://github.com/c/d", "dev")
    assert new == (
        "title: x  # keep\nrepository:\n  # the fork\n  url: https://github.com/c/d  # here\n  branch: dev\n"
        "\nhtml:\n  x: 1\n"
    )
    assert set_repository(new, "https://github.com/c/d", "dev") == new
    with pytest.raises(ValueError, match="no top-level 'repository:'"):
        set_repository("title: x\n", "https://github.com/c/d", "dev")
    with pytest.raises(ValueError, match="no 'url:' key"):
        set_repository("repository:\n  branch: main\n", "https://github.com/c/d", "dev")


def test_retarget_also_rewrites_committed_student_versions(book):
    from metalearn_lite.course.student import write_student_versions

    write_student_versions(book / "notebooks", book / "students")
    assert main(["retarget", "https://github.com/prof-example/course-2027", "--branch", "fall-2027",
                 "--root", str(book)]) == 0
    config = BookConfig.load(book)
    for path in sorted((book / "students").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert config.colab_url(path, "students") in nb.cells[0].source
        assert "/blob/colab-fall-2027/students/" in config.colab_url(path, "students"), "their Colab edition"
        assert config.pip_requirement in nb.cells[1].source
