"""The instructor CLI never destroys work and answers every user error with exit status 2 and one
line naming the file or argument (``python -m metalearn_lite.course``)."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.config import BookConfig, branch_problem


def run(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err.strip()
    return info.value.code, err


@pytest.fixture
def chapters(tmp_path, tiny_chapter):
    return tiny_chapter.parent


def test_student_refuses_to_overwrite_notebooks_with_solutions(chapters, tmp_path, capsys):
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(chapters / "99_tiny.ipynb", other / "99_tiny.ipynb")
    before = (chapters / "99_tiny.ipynb").read_bytes()
    code, err = run(["student", str(other), str(chapters)], capsys)  # arguments swapped by mistake
    assert code == 2 and "holds notebooks with solutions (99_tiny.ipynb)" in err and "--force" in err
    assert "\n" not in err
    assert (chapters / "99_tiny.ipynb").read_bytes() == before, "the solutions were not touched"
    out = tmp_path / "students"
    assert main(["student", str(chapters), str(out)]) == 0
    assert main(["student", str(chapters), str(out)]) == 0, "stubbed student copies may be rewritten"
    assert main(["student", str(other), str(chapters), "--force"]) == 0, "--force overwrites on purpose"


def test_a_broken_notebook_is_one_line_naming_the_file(chapters, tmp_path, capsys):
    (chapters / "50_broken.ipynb").write_text("{}")
    code, err = run(["student", str(chapters), str(tmp_path / "out")], capsys)
    assert code == 2 and "50_broken.ipynb is not a readable Jupyter notebook" in err and "\n" not in err


@pytest.mark.parametrize("timeout", ["1.5", "0", "soon"])
def test_bad_timeout_is_a_usage_error(chapters, capsys, timeout):
    code, err = run(["check", str(chapters / "99_tiny.ipynb"), "--timeout", timeout], capsys)
    assert code == 2 and "--timeout" in err and "whole number" in err


def test_invalid_yaml_in_config_is_one_line(tmp_path, capsys):
    (tmp_path / "_config.yml").write_text("repository: [unclosed\n")
    code, err = run(["retarget", "https://github.com/a/b", "--root", str(tmp_path)], capsys)
    assert code == 2 and "_config.yml is not valid YAML" in err and "\n" not in err


@pytest.mark.parametrize("branch", ["x#y", "a..b~1", 'fall"27', "it's", "[x]", "x y", "x/", "/x", "x.lock", ".x",
                                    "a//b", "@", "x@{1}", ""])
def test_branch_names_follow_gits_rules(branch, capsys):
    assert branch_problem(branch)
    with pytest.raises(ValueError, match="branch"):
        BookConfig("https://github.com/a/b", branch=branch)


@pytest.mark.parametrize("branch", ["main", "fall-2027", "release/v1.0", "feature_x.2"])
def test_good_branch_names_pass(branch):
    assert branch_problem(branch) is None and BookConfig("https://github.com/a/b", branch=branch).branch == branch


@pytest.mark.parametrize("url", ["https://github.com/../..", "https://github.com/-a/b", "https://github.com/a/..",
                                 "https://github.com/a--b/c", "https://github.com/a/b/c", "http://github.com/a/b",
                                 "https://gitlab.com/a/b"])
def test_repository_urls_follow_githubs_rules(url):
    with pytest.raises(ValueError, match="repo_url"):
        BookConfig(url)


def test_retarget_with_a_bad_branch_exits_2_and_changes_nothing(tmp_path, repo_root, capsys):
    shutil.copy(repo_root / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(repo_root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py"))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, err = run(["retarget", "https://github.com/prof/course", "--branch", "x#y", "--root", str(tmp_path)], capsys)
    assert code == 2 and "branch 'x#y'" in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    nbformat.read(tmp_path / "notebooks" / "01_introduction.ipynb", as_version=4)
