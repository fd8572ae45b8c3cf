"""Grading: the checks are real. On a student version every check fails; on the original every one
passes; a wrong answer fails with the check's own message. Chapter 1 end to end, and a tiny chapter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.grading import grade_notebook, grade_notebooks
from metalearn_lite.course.student import write_student_versions


@pytest.fixture
def tiny_pair(tiny_chapter, tmp_path):
    """The tiny chapter and its student version."""
    (student,) = write_student_versions(tiny_chapter.parent, tmp_path / "students")
    return tiny_chapter, student


def test_checks_pass_on_solutions_and_fail_on_stubs(tiny_pair):
    original, student = grade_notebooks(list(tiny_pair), timeout=60, jobs=2)
    assert [(r.label, r.status) for r in original.results] == [
        ("ex-99-mean", "pass"), ("ex-99-norm", "pass"), ("ex-99-why", "manual")]
    assert original.ok and original.errors == []
    assert [(r.label, r.status) for r in student.results] == [
        ("ex-99-mean", "fail"), ("ex-99-norm", "fail"), ("ex-99-why", "manual")]
    assert all(r.message.startswith("NotImplementedError") for r in student.graded)
    assert not student.ok and student.passed == 0


def test_report_names_wrong_answers_broken_cells_and_exit_status(tiny_chapter, capsys):
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("total / len(values)", "total")  # a wrong answer
    nb.cells[1].source += "\nimport not_a_module_anyone_has"  # a broken cell outside the exercises
    nbformat.write(nb, tiny_chapter)

    assert main(["check", str(tiny_chapter), "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"Grading {tiny_chapter}",
        "  FAIL    ex-99-mean: AssertionError: the mean of 3, 1, 2 should be 2",
        "  PASS    ex-99-norm",
        "  MANUAL  ex-99-why: a prose exercise, graded by hand",
        "  ERROR   cell 2 (numbers = [3, 1, 2]): ModuleNotFoundError: No module named 'not_a_module_anyone_has'",
        "Score: 1/2 checked exercises pass; 1 other cell(s) failed",
    ]

    assert main(["check", str(tiny_chapter), "--json"]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert report["passed"] == 1 and report["checked"] == 2 and report["ok"] is False
    assert report["results"][0] == {
        "label": "ex-99-mean", "status": "fail", "message": "AssertionError: the mean of 3, 1, 2 should be 2"}


def test_a_broken_solution_cell_and_a_timeout_are_reported(tiny_chapter):
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[3].source += "\n\n\nraise RuntimeError('oops')"
    nb.cells[9].source = "import time\ntime.sleep(30)\n" + nb.cells[9].source
    nbformat.write(nb, tiny_chapter)
    report = grade_notebook(tiny_chapter, timeout=2)
    messages = {r.label: r.message for r in report.results}
    assert messages["ex-99-mean"] == "your solution cell raised RuntimeError: oops"
    assert messages["ex-99-norm"].startswith("TimeoutError: the cell ran longer than 2 s")


def test_check_rejects_bad_input(tmp_path, tiny_chapter, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(tmp_path / "missing.ipynb")])
    assert exit_info.value.code == 2
    assert "not found" in capsys.readouterr().err
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells = nb.cells[:2]
    nbformat.write(nb, tiny_chapter)
    assert main(["check", str(tiny_chapter)]) == 1  # reported for this submission, the batch goes on
    assert "nothing to grade" in capsys.readouterr().out
    with pytest.raises(ValueError, match="timeout"):
        grade_notebook(tiny_chapter, timeout=0)
    with pytest.raises(ValueError, match="jobs"):
        grade_notebooks([tiny_chapter], jobs=0)


@pytest.mark.slow
def test_chapter_one_end_to_end(repo_root, omniglot_dir, tmp_path):
    """The real chapter: its student version fails every check, the original passes every one."""
    source = repo_root / "notebooks" / "01_introduction.ipynb"
    write_student_versions(source.parent, tmp_path)
    student = tmp_path / source.name
    original, stubbed = grade_notebooks([source, student], timeout=600, jobs=2)
    assert original.ok, original.format()
    assert len(original.graded) >= 1 and original.passed == len(original.graded)
    assert stubbed.errors == [], stubbed.format()
    assert stubbed.passed == 0 and len(stubbed.graded) == len(original.graded), stubbed.format()
    for result in stubbed.graded:
        assert result.message.startswith(("NotImplementedError", "AssertionError")), result


@pytest.mark.slow
def test_the_notebook_run_rejects_a_check_that_passes_on_the_stub(tmp_path, tiny_chapter, repo_root):
    """`make notebooks` (nbval + notebooks/conftest.py) reruns each passing check on the stub."""
    folder = tiny_chapter.parent
    shutil.copy(repo_root / "notebooks" / "conftest.py", folder / "conftest.py")
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[5].source = 'assert callable(mean), "mean should be a function"'  # true of the stub too
    nbformat.write(nb, tiny_chapter)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         str(folder)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ex-99-mean: the check passes on the stub (raise NotImplementedError): it checks nothing" in result.stdout
    assert "1 failed, 4 passed" in result.stdout, "ex-99-norm's real check passes, and so does the rest"


@pytest.mark.slow
def test_the_parallel_notebook_run_caches_every_chapter_and_checks_its_time(tmp_path, tiny_chapter, repo_root):
    """`make notebooks` under pytest-xdist: each worker caches what it ran, the controller checks the times."""
    from jupyter_cache import get_cache

    folder = tiny_chapter.parent
    shutil.copy(repo_root / "notebooks" / "conftest.py", folder / "conftest.py")
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[0].source = "# 99. A tiny chapter\n\n**Runs in** about a second on two CPU cores."
    nbformat.write(nb, tiny_chapter)
    nb.cells[0].source = "# 98. A tiny chapter that says it is slow\n\n**Runs in** about 9 minutes on two CPU cores."
    nb.cells[1].source += "  # other code: jupyter-cache keys a notebook by its code"
    nbformat.write(nb, folder / "98_slow.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile",
         "--nbval-lax", "--nbval-current-env", str(folder)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out  # every cell passes; the overstated time fails the run
    assert "10 passed" in out, out
    assert "99_tiny.ipynb: stated 1 s, measured" in out, out
    assert "error: " in out and "98_slow.ipynb: states about 540 s but ran only" in out, out
    assert "99_tiny.ipynb: states" not in out, out
    cached = get_cache(folder.parent / "_build" / ".jupyter_cache").list_cache_records()
    assert sorted(Path(r.uri).name for r in cached) == ["98_slow.ipynb", "99_tiny.ipynb"]
