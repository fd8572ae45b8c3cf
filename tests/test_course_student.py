"""Student versions: stubs keep the interface and drop the solution; prose solutions disappear."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.config import COLAB_BADGE, BookConfig
from metalearn_lite.course.exercises import directives, parse_exercises
from metalearn_lite.course.student import STUDENT_NOTE, stub_source, student_notebook, write_student_versions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _definitions(source: str) -> dict[str, ast.AST]:
    return {n.name: n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def _interface(node: ast.AST) -> str:
    """Signature and docstring of a function (or the name, bases and docstring of a class)."""
    if isinstance(node, ast.ClassDef):
        return ast.dump(ast.ClassDef(node.name, node.bases, node.keywords, [], node.decorator_list, []))
    return ast.dump(node.args) + ast.dump(node.returns or ast.Constant(None)) + repr(ast.get_docstring(node)) + "".join(
        ast.dump(d) for d in node.decorator_list)


def test_stub_keeps_signature_docstring_and_imports():
    source = (
        "import math\n\n\n@staticmethod\ndef f(x: float, *, scale: int = 2) -> float:\n"
        '    """Scale ``x``.\n\n    Shapes: none.\n    """\n    y = x * scale\n    return math.sqrt(y)\n\n\nprint(f(2))'
    )
    stub = stub_source(source)
    assert stub == (
        "import math\n\n\n@staticmethod\ndef f(x: float, *, scale: int = 2) -> float:\n"
        '    """Scale ``x``.\n\n    Shapes: none.\n    """\n    # YOUR CODE HERE\n    raise NotImplementedError'
    )
    assert _interface(_definitions(stub)["f"]) == _interface(_definitions(source)["f"])


def test_stub_of_functions_without_docstring_one_liners_and_classes():
    assert stub_source("def g(a,\n      b):\n    return a + b") == (
        "def g(a,\n      b):\n    # YOUR CODE HERE\n    raise NotImplementedError"
    )
    assert stub_source("def h(x): return x") == "def h(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"
    source = (
        'class Net:\n    """A net."""\n\n    size = 3\n\n    def forward(self, x):\n        """Run."""\n'
        "        return x * self.size\n"
    )
    stub = stub_source(source)
    namespace: dict = {}
    exec(compile(stub, "<stub>", "exec"), namespace)
    assert namespace["Net"].size == 3 and namespace["Net"].__doc__ == "A net."
    with pytest.raises(NotImplementedError):
        namespace["Net"]().forward(1)
    assert "self.size" not in stub


@pytest.mark.parametrize("source", ["x = 1", "def broken(:\n    pass"])
def test_stub_rejects_cells_without_a_function(source):
    with pytest.raises(ValueError, match="no function|does not parse"):
        stub_source(source)


def test_student_version_of_the_tiny_chapter(tiny_chapter):
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nb.cells[1].execution_count = 3
    student = student_notebook(nb)
    text = nbformat.writes(student)
    assert "SECRET-PROSE" not in text, "solution prose must be removed"
    assert "total / len(values)" not in text and "math.sqrt" not in text, "solution code must be removed"
    assert "solution-start" not in text and "solution-end" not in text and "{solution}" not in text
    assert text.count("raise NotImplementedError") == 2
    assert STUDENT_NOTE in student.cells[0].source
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    checks = [c for c in code if "check" in c.metadata.get("tags", [])]
    assert [c.metadata["exercise"] for c in checks] == ["ex-99-mean", "ex-99-norm"]
    assert [c.source for c in checks] == [c.source for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert "## References" in student.cells[-2].source and ":label: ex-99-why" in student.cells[-2].source
    answer = student.cells[-1]  # where the student answers the prose exercise, for grading by hand
    assert answer.cell_type == "markdown" and answer.metadata == {"tags": ["answer"], "exercise": "ex-99-why"}
    assert [e.label for e in parse_exercises(student, student=True)] == ["ex-99-mean", "ex-99-norm", "ex-99-why"]
    assert nb.cells[1].outputs, "the original notebook is left untouched"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_of_every_chapter(path):
    nb = nbformat.read(path, as_version=4)
    student = student_notebook(nb)
    originals = {e.label: e for e in parse_exercises(nb)}
    stubs = {e.label: e for e in parse_exercises(student, student=True)}
    assert list(stubs) == list(originals)
    for label, exercise in originals.items():
        assert len(stubs[label].check_cells) == len(exercise.check_cells)
        for before, after in zip(exercise.check_cells, stubs[label].check_cells, strict=True):
            assert student.cells[after].source == nb.cells[before].source
        for before, after in zip(exercise.solution_cells, stubs[label].solution_cells, strict=True):
            solved, stubbed = _definitions(nb.cells[before].source), _definitions(student.cells[after].source)
            assert solved.keys() >= stubbed.keys() and stubbed, f"{label}: the stub defines the same functions"
            for name, node in stubbed.items():
                assert _interface(node) == _interface(solved[name]), f"{label}: {name}'s signature changed"
                if isinstance(node, ast.FunctionDef):
                    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                    assert [ast.unparse(b) for b in body] == ["raise NotImplementedError"], f"{label}: {name}"
            assert "# YOUR CODE HERE" in student.cells[after].source
    for cell in student.cells:
        if cell.cell_type == "markdown":
            assert not [d for d in directives(cell.source) if d.name.startswith("solution")]
    assert not COLAB_BADGE.search(student.cells[0].source), "no badge to the solutions when none is given"


def test_cli_writes_student_versions_with_badges_to_the_copy(tmp_path, tiny_chapter, repo_root, capsys):
    shutil.copy(repo_root / "_config.yml", tmp_path)
    config = BookConfig.load(tmp_path)
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[0].source += "\n\n" + config.colab_badge(tiny_chapter)
    nbformat.write(nb, tiny_chapter)

    assert main(["student", str(tmp_path / "notebooks"), str(tmp_path / "students")]) == 0
    written = tmp_path / "students" / "99_tiny.ipynb"
    assert f"wrote {written}" in capsys.readouterr().out
    title = nbformat.read(written, as_version=4).cells[0].source
    assert config.colab_badge(written, "students") in title
    assert f"/blob/{config.colab_branch}/students/99_tiny.ipynb" in title  # its Colab edition

    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    assert main(["student", str(tmp_path / "notebooks"), str(outside)]) == 0
    assert not COLAB_BADGE.search(nbformat.read(outside / "99_tiny.ipynb", as_version=4).cells[0].source)
    shutil.rmtree(outside)


def test_cli_refuses_to_overwrite_the_solutions_and_reports_bad_input(tmp_path, tiny_chapter, capsys):
    folder = str(tiny_chapter.parent)
    with pytest.raises(SystemExit) as exit_info:
        main(["student", folder, folder])
    assert exit_info.value.code == 2
    assert "would overwrite the solutions" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["student", str(tmp_path / "nowhere"), str(tmp_path / "out")])
    assert "SRC_DIR must be a folder" in capsys.readouterr().err
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[5].metadata["tags"] = []
    nbformat.write(nb, tiny_chapter)
    with pytest.raises(SystemExit):
        main(["student", folder, str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "99_tiny.ipynb" in err and "without a check cell" in err
    assert not (tmp_path / "out").exists(), "nothing is written when a notebook breaks the convention"


def test_committed_student_versions_pass_the_projects_lint(repo_root, tmp_path):
    """An instructor commits ``students/``; CI lints the repository: the stubs must not fail it."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    for path in write_student_versions(repo_root / "notebooks", tmp_path / "students"):
        result = subprocess.run([ruff, "check", "--stdin-filename", f"students/{path.name}", "-"], cwd=repo_root,
                                input=path.read_text(encoding="utf-8"), capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
