"""Student versions of the chapter notebooks: solutions out, stubs and checks in.

``python -m metalearn_lite.course student SRC_DIR OUT_DIR`` writes, for every notebook of SRC_DIR,
a copy in which

* each solution cell (tag ``solution``) becomes a stub that keeps the function's signature and
  docstring, with the body ``# YOUR CODE HERE`` / ``raise NotImplementedError``;
* solution prose is removed: ``{solution}`` directives and everything between ``{solution-start}``
  and ``{solution-end}``;
* check cells (tag ``check``) are kept, so a student runs them, and an instructor grades with
  ``python -m metalearn_lite.course check``;
* outputs and execution counts are stripped.

The exercise convention is read by ``exercises.py``. Taught in ``book/for-instructors.md``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .config import COLAB_BADGE, BookConfig, read_notebook
from .exercises import ANSWER_PROMPT, ANSWER_TAG, SOLUTION_TAG, directives, parse_exercises

__all__ = ["STUB_BODY", "answer_cell", "stub_source", "student_notebook", "write_student_versions"]

STUB_BODY = ("# YOUR CODE HERE", "raise NotImplementedError")
STUDENT_NOTE = (
    "*Student version: write the bodies marked `# YOUR CODE HERE`, then run the check cell after each "
    "exercise. Your instructor grades the notebook with `python -m metalearn_lite.course check`.*"
)


def _stub_definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> list[str]:
    """Source lines of ``node`` with every function body replaced by the stub body."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    body = node.body[0]
    own_line = not lines[body.lineno - 1][: body.col_offset].strip()
    if own_line:
        header = lines[first : body.lineno - 1]
        indent = lines[body.lineno - 1][: body.col_offset]
    else:  # `def f(x): return x` -- the body shares the line of the colon
        header = lines[first : body.lineno - 1] + [lines[body.lineno - 1][: body.col_offset].rstrip()]
        indent = " " * (node.col_offset + 4)
    out = list(header)
    rest = node.body
    if isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) and isinstance(body.value.value, str):
        out += lines[body.lineno - 1 : body.end_lineno] if own_line else [indent + repr(body.value.value)]
        rest = node.body[1:]
    if isinstance(node, ast.ClassDef):  # keep the interface: attributes, and methods as stubs
        for member in rest:
            if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out += [""] + _stub_definition(member, lines)
            else:
                out += lines[member.lineno - 1 : member.end_lineno]
        if not rest:
            out.append(indent + "pass")
        return out
    return out + [indent + line for line in STUB_BODY]


def stub_source(source: str) -> str:
    """The stub of a solution cell: imports kept, each function (or class method) body replaced.

    Top-level statements other than imports and definitions (a call that demonstrates the
    solution, say) belong to the solution and are dropped.

    Raises:
        ValueError: when ``source`` does not parse or defines no function or class.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"the solution cell does not parse: {error.msg} (line {error.lineno})") from error
    lines = source.splitlines()
    imports: list[str] = []
    definitions: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports += lines[node.lineno - 1 : node.end_lineno]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definitions.append("\n".join(_stub_definition(node, lines)))
    if not definitions:
        raise ValueError(f"the solution cell defines no function to stub:\n{source}")
    return "\n\n\n".join((["\n".join(imports)] if imports else []) + definitions)


def _cut_lines(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the inclusive line spans, with runs of blank lines collapsed."""
    lines = text.splitlines()
    drop = {i for first, last in spans for i in range(first, last + 1)}
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return re.sub(r"\n{3,}", "\n\n", kept).strip("\n")


def student_notebook(nb, badge: str | None = None):
    """The student version of the notebook ``nb`` (a new ``NotebookNode``; ``nb`` is untouched).

    Args:
        nb: a chapter notebook following the exercise convention (ValueError otherwise).
        badge: the "Open in Colab" badge that should replace the chapter's badge (pointing at the
            student copy), or None to remove the badge.
    """
    import nbformat

    exercises = parse_exercises(nb)
    label_of = {i: e.label for e in exercises for i in e.solution_cells + e.check_cells}
    prose_at: dict[int, list[str]] = {}  # cell -> labels of the prose exercises it states
    for e in exercises:
        if not e.is_code:
            prose_at.setdefault(e.cell, []).append(e.label)
    out = nbformat.from_dict(nb)  # a deep copy
    cells, in_solution = [], False
    for index, cell in enumerate(out.cells):
        cells += [answer_cell(label) for label in prose_at.get(index - 1, [])]  # answers to the cell before
        if cell.cell_type == "markdown":
            spans = []
            for d in directives(cell.source):
                if d.name == "solution":
                    spans.append((d.first_line, d.last_line))
                elif d.name == "solution-start":
                    spans.append((d.first_line, len(cell.source.splitlines())))
                    in_solution = True
                elif d.name == "solution-end":
                    spans.append((0, d.last_line))
                    in_solution = False
            if in_solution and not spans:
                continue  # prose inside a gated solution
            cell.source = _cut_lines(cell.source, spans)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if SOLUTION_TAG in cell.metadata.get("tags", []):
                cell.source = stub_source(cell.source)
            if index in label_of:
                cell.metadata["exercise"] = label_of[index]
        for key in ("execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        cells.append(cell)
    cells += [answer_cell(label) for label in prose_at.get(len(out.cells) - 1, [])]
    out.cells = cells
    title = out.cells[0]
    title.source = COLAB_BADGE.sub(badge or "", title.source)
    heading, _, rest = re.sub(r"\n{3,}", "\n\n", title.source).partition("\n")
    title.source = f"{heading}\n\n{STUDENT_NOTE}\n\n{rest.strip()}".rstrip()
    return out


def answer_cell(label: str):
    """The Markdown cell, tagged ``answer``, in which a student writes the answer to a prose exercise;
    ``python -m metalearn_lite.course check --manual FILE`` collects them for grading by hand."""
    import nbformat

    cell = nbformat.v4.new_markdown_cell(ANSWER_PROMPT.format(label=label) + "\n\n")
    cell.metadata = {"tags": [ANSWER_TAG], "exercise": label}
    return cell


def _book_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / "_config.yml").is_file():
            return folder
    return None


def has_solutions(nb) -> bool:
    """Whether a notebook holds solutions: a solution directive, or a solution cell that is not a stub."""
    for cell in nb.cells:
        names = {d.name for d in directives(cell.source)} if cell.cell_type == "markdown" else set()
        if names & {"solution", "solution-start"}:
            return True
        if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []) and (
                "raise NotImplementedError" not in cell.source):
            return True
    return False


def write_student_versions(src_dir: str | Path, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write the student version of every notebook in ``src_dir`` to ``out_dir``; return the paths.

    A notebook of ``out_dir`` that holds solutions (a chapter, or an answered student copy) is never
    overwritten unless ``force``: the command refuses before writing anything.

    When ``out_dir`` lies inside the book's repository (the folder with ``_config.yml`` above
    ``src_dir``), each Colab badge is pointed at the student copy, which opens once it is committed
    and pushed; otherwise the badge is removed.
    """
    import nbformat

    src, out = Path(src_dir).resolve(), Path(out_dir).resolve()
    if not src.is_dir():
        raise ValueError(f"SRC_DIR must be a folder of notebooks, got {str(src_dir)!r}")
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"SRC_DIR {str(src_dir)!r} holds no .ipynb files")
    if out == src:
        raise ValueError("OUT_DIR must differ from SRC_DIR: student versions would overwrite the solutions")
    root = _book_root(src)
    config = BookConfig.load(root) if root else None
    folder = out.relative_to(root).as_posix() if root and out.is_relative_to(root) else None
    versions = []
    for path in notebooks:
        nb = read_notebook(path)
        badge = config.colab_badge(path, folder) if config and folder else None
        try:
            versions.append((path.name, student_notebook(nb, badge)))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
    if not force:
        precious = [out / name for name, _ in versions
                    if (out / name).is_file() and has_solutions(read_notebook(out / name))]
        if precious:
            names = ", ".join(p.name for p in precious[:3]) + (" ..." if len(precious) > 3 else "")
            raise ValueError(f"OUT_DIR {str(out_dir)!r} holds notebooks with solutions ({names}); refusing to "
                             "overwrite them (choose another OUT_DIR, or pass --force)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in versions:
        nbformat.write(nb, out / name)
        written.append(out / name)
    return written
