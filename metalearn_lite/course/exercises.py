"""The exercises of a chapter notebook, read from the book's exercise convention.

Every chapter ends with exercises written with sphinx-exercise. A *prose* exercise is an
``exercise`` directive followed by a ``solution`` directive (collapsed in the book). A *code*
exercise has its solution gated between two markdown directives, so that the book shows the code
inside the collapsed solution and the notebook still runs it::

    :::{exercise} ex-01-class-means    (markdown; the label is also the title the book shows,
    :label: ex-01-class-means           and :nonumber: drops the book-wide number, so a reader,
    :nonumber:                          a student and the grader all see one name)
    ...
    :::

    ```{solution-start} ex-01-class-means
    :class: dropdown
    ```
    def class_means(...): ...          (ONE code cell, tagged ``solution``, defining a function)
    ```{solution-end}
    ```                                (markdown; prose before it belongs to the solution)
    assert ..., "a clear message"      (code cell tagged ``check``)

Student versions (``student.py``) keep the ``solution`` and ``check`` tags and record the exercise's
label in the cells' metadata (``"exercise"``), since their gating directives are removed. This module
reads both forms; ``student.py`` and ``grading.py`` build on it, and ``conventions.py`` reports the
problems it finds. Taught in the page *For instructors* (``book/for-instructors.md``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = [
    "ANSWER_PROMPT", "ANSWER_TAG", "CHECK_TAG", "SOLUTION_TAG", "Directive", "Exercise", "directives",
    "exercise_problems", "parse_exercises",
]

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
ANSWER_TAG = "answer"  # a student's answer to a prose exercise (student versions only)
ANSWER_PROMPT = "**Your answer to `{label}`** (double-click to write it here):"  # what the answer cell starts with
_OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>.*?)\s*$")
_BARE_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\s*$")
_NESTED_OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\S")
_LABEL = re.compile(r"^:label:\s*(?P<label>\S+)\s*$")


@dataclass(frozen=True)
class Directive:
    """A fenced MyST directive in a markdown cell: its name, argument, label and line span."""

    name: str
    argument: str
    label: str | None
    first_line: int  # the opening fence
    last_line: int  # the closing fence (the last line of the cell when it is never closed)


def directives(markdown: str) -> list[Directive]:
    """The top-level fenced directives (```` ```{name} ```` or ``:::{name}``) of a markdown text."""
    lines = markdown.splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = _OPENING.match(lines[i])
        if not opening:
            i += 1
            continue
        label = None
        stack = [opening["fence"]]
        j = i + 1
        while j < len(lines) and stack:
            line = lines[j].strip()
            if (m := _LABEL.match(line)) and len(stack) == 1 and label is None:
                label = m["label"]
            if (bare := _BARE_FENCE.match(line)) and bare["fence"][0] == stack[-1][0] and (
                len(bare["fence"]) >= len(stack[-1])
            ):
                stack.pop()
            elif nested := _NESTED_OPENING.match(line):
                stack.append(nested["fence"])
            j += 1
        found.append(Directive(opening["name"], opening["argument"], label, i, j - 1))
        i = j
    return found


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, by cell index.

    Attributes:
        label: the exercise's label, e.g. ``ex-01-class-means``.
        cell: the markdown cell holding its ``exercise`` directive.
        solution_cells: code cells tagged ``solution`` (one for a code exercise, none for prose).
        check_cells: code cells tagged ``check`` that assert the solution is right.
        prose_solution: whether a ``solution`` directive (text in a dropdown) answers it.
    """

    label: str
    cell: int
    solution_cells: tuple[int, ...] = ()
    check_cells: tuple[int, ...] = ()
    prose_solution: bool = False

    @property
    def is_code(self) -> bool:
        """A code exercise: a check cell grades it."""
        return bool(self.check_cells)


def _defines_a_function(source: str) -> str | None:
    """None when ``source`` parses and defines a function or class at top level, else the reason."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return f"does not parse ({error.msg}, line {error.lineno})"
    if not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for n in tree.body):
        return "defines no function: a solution cell defines the function the check calls"
    return None


def _scan(nb) -> tuple[list[Exercise], list[str]]:
    labels: dict[str, dict] = {}  # label -> fields of Exercise, in order of appearance
    problems: list[str] = []
    region: str | None = None  # label of the open solution-start ... solution-end region
    region_code: list[int] = []
    last_solved: str | None = None  # label whose gated solution closed most recently

    def known(label: str, where: str) -> bool:
        if label not in labels:
            problems.append(f"{where} refers to {label!r}, which no exercise directive before it defines")
        return label in labels

    for index, cell in enumerate(nb.cells):
        where = f"cell {index + 1}"
        tags = cell.get("metadata", {}).get("tags", [])
        recorded = cell.get("metadata", {}).get("exercise")
        if cell.cell_type == "markdown":
            for d in directives(cell.source):
                if d.name == "exercise":
                    if not d.label:
                        problems.append(f"{where}: an exercise directive without a :label:")
                    elif d.label in labels:
                        problems.append(f"{where}: exercise label {d.label!r} is used twice")
                    else:
                        if d.argument != d.label or ":nonumber:" not in cell.source:
                            problems.append(f"{where}: exercise {d.label!r} must show its label as its one name "
                                            f"(':::{{exercise}} {d.label}' with ':nonumber:'), as the grader does")
                        labels[d.label] = {"label": d.label, "cell": index, "solution_cells": [], "check_cells": []}
                        last_solved = None
                elif d.name == "solution" and known(d.argument, f"{where}: solution directive"):
                    labels[d.argument]["prose_solution"] = True
                elif d.name == "solution-start":
                    if region is not None:
                        problems.append(f"{where}: solution-start of {d.argument!r} inside the open {region!r}")
                    region, region_code = d.argument, []
                    known(region, f"{where}: solution-start")
                elif d.name == "solution-end":
                    if region is None:
                        problems.append(f"{where}: solution-end without a solution-start before it")
                        continue
                    if len(region_code) != 1:
                        problems.append(
                            f"{where}: the solution of {region!r} must hold exactly one code cell "
                            f"(tagged {SOLUTION_TAG!r}), found {len(region_code)}"
                        )
                    if region in labels:
                        labels[region]["solution_cells"] += region_code
                        last_solved = region
                    region = None
            continue
        if cell.cell_type != "code":
            continue
        if region is not None:
            region_code.append(index)
            if SOLUTION_TAG not in tags:
                problems.append(f"{where}: the code cell in the solution of {region!r} is not tagged {SOLUTION_TAG!r}")
            elif reason := _defines_a_function(cell.source):
                problems.append(f"{where}: the solution of {region!r} {reason}")
        elif SOLUTION_TAG in tags:
            if recorded and known(recorded, f"{where}: solution cell metadata"):
                labels[recorded]["solution_cells"].append(index)
                last_solved = recorded
            elif not recorded:
                problems.append(f"{where}: a cell tagged {SOLUTION_TAG!r} outside a solution-start/solution-end pair")
        if CHECK_TAG in tags:
            label = recorded or last_solved
            if label is None:
                problems.append(f"{where}: a check cell that follows no exercise's solution")
            elif known(label, f"{where}: check cell"):
                labels[label]["check_cells"].append(index)
            if not re.search(r"^\s*assert\b", cell.source, re.M):
                problems.append(f"{where}: a check cell without an assert")
    if region is not None:
        problems.append(f"the solution-start of {region!r} has no solution-end")
    exercises = []
    for fields in labels.values():
        exercise = Exercise(
            fields["label"],
            fields["cell"],
            tuple(fields["solution_cells"]),
            tuple(fields["check_cells"]),
            fields.get("prose_solution", False),
        )
        if exercise.solution_cells and not exercise.check_cells:
            problems.append(f"{exercise.label}: a code solution without a check cell after it")
        if not exercise.solution_cells and not exercise.prose_solution:
            problems.append(f"{exercise.label}: no solution (a solution directive or a gated solution cell)")
        exercises.append(exercise)
    return exercises, problems


def exercise_problems(nb, *, student: bool = False) -> list[str]:
    """What breaks the exercise convention in the notebook ``nb`` (an empty list when nothing).

    With ``student=True``, the notebook is a student version: solutions may be missing.
    """
    _, problems = _scan(nb)
    if student:
        problems = [p for p in problems if "no solution (" not in p]
    return problems


def parse_exercises(nb, *, student: bool = False) -> list[Exercise]:
    """The exercises of the notebook ``nb`` in order; ValueError listing what breaks the convention."""
    exercises, _ = _scan(nb)
    problems = exercise_problems(nb, student=student)
    if problems:
        raise ValueError("the exercises do not follow the book's convention:\n  " + "\n  ".join(problems))
    return exercises
