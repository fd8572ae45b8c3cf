"""``book/for-instructors.md`` followed literally, its own commands taken from the page: retarget a
fork, tag a term after the retarget commit, write and commit the student versions, keep lint and the
conventions green, and grade a folder of submissions (one solved, one left as handed out, one with
its checks replaced by ``assert True``, one that is not a notebook) into a gradebook."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from submissions import write_submissions

from metalearn_lite.course.conventions import book_problems
from metalearn_lite.course.exercises import parse_exercises

FORK = "https://github.com/prof-example/course-2027"


def page_commands(repo_root: Path) -> list[str]:
    """The shell commands of the page's ``bash`` blocks, continuation lines joined, comments dropped."""
    page = (repo_root / "book" / "for-instructors.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", page, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if line:
                commands.append(line)
    return commands


def run(command: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    command = command.replace(".venv/bin/python", sys.executable).replace("https://github.com/YOU/REPO", FORK)
    command = command.replace("git push && git push --tags", "true").replace("git push --tags", "true")
    result = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def fork(tmp_path, repo_root):
    """A clone of the book's sources, as a fresh git repository."""
    for name in ("_config.yml", "_toc.yml", "CITATION.cff", "pyproject.toml", "README.md"):
        shutil.copy(repo_root / name, tmp_path / name)
    shutil.copytree(repo_root / "book", tmp_path / "book")
    shutil.copytree(repo_root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py", ".*"))
    for command in ("git init -q -b main", "git -c user.name=p -c user.email=p@x commit -q --allow-empty -m init",
                    "git add -A", "git -c user.name=p -c user.email=p@x commit -q -m 'the fork'"):
        subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.slow
def test_the_page_followed_literally(fork, repo_root, omniglot_dir, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "prof"), monkeypatch.setenv("GIT_AUTHOR_EMAIL", "prof@example.org")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "prof"), monkeypatch.setenv("GIT_COMMITTER_EMAIL", "prof@example.org")
    commands = page_commands(repo_root)

    def the(pattern: str) -> list[str]:
        found = [c for c in commands if re.search(pattern, c)]
        assert found, f"the page has no command matching {pattern!r}"
        return found

    # 2. point the book at the fork, then freeze a term on a tag created after the retarget commit
    run(the(r"retarget .* --branch main")[0], fork)
    run(the(r"git commit -am \"Point the book")[0], fork)
    term = [the(r"retarget .* --branch fall-2027")[0], the(r"git commit -am \"Fall 2027")[0],
            the(r"git tag fall-2027")[0]]
    assert [commands.index(c) for c in term] == sorted(commands.index(c) for c in term), (
        "the page must tag the term after committing the retarget")
    for command in term:
        run(command, fork)
    tagged = run("git show fall-2027:notebooks/01_introduction.ipynb", fork).stdout
    assert "/blob/colab-fall-2027/notebooks/01_introduction.ipynb" in tagged and "course-2027.git@fall-2027" in tagged

    # 3. student versions, committed; the fork's lint and conventions stay green
    run(the(r"course student notebooks students$")[0], fork)
    run("git add students && git commit -q -m 'Student versions'", fork)
    lint = subprocess.run([shutil.which("ruff") or str(Path(sys.executable).parent / "ruff"), "check", "."],
                          cwd=fork, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    assert book_problems(fork) == []

    # 4. a folder of submissions, graded with the page's command
    chapter = fork / "notebooks" / "01_introduction.ipynb"
    write_submissions(chapter, fork / "students" / chapter.name, fork / "submissions")
    grading = run(the(r"course check submissions/\*/01_introduction.ipynb .*--reference notebooks")[0], fork,
                  check=False)
    assert grading.returncode == 1, grading.stdout + grading.stderr
    rows = {r["submission"]: r for r in csv.DictReader((fork / "grades.csv").open(encoding="utf-8"))}
    checked = sum(e.is_code for e in parse_exercises(nbformat.read(chapter, as_version=4)))
    assert rows["alice/01_introduction.ipynb"]["total"] == str(checked) == rows["alice/01_introduction.ipynb"]["max"]
    assert rows["bob/01_introduction.ipynb"]["total"] == "0"
    assert rows["carol/01_introduction.ipynb"]["total"] == "0", "replacing the checks must not score"
    assert "not a readable Jupyter notebook" in rows["dave/01_introduction.ipynb"]["problems"]
    assert (fork / "answers.md").is_file()
