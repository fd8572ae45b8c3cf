"""The exercise convention: parsed on the real chapters and a tiny one, and broken on purpose."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from metalearn_lite.course.exercises import directives, exercise_problems, parse_exercises

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_directives_find_labels_spans_and_nesting():
    text = (
        "intro\n:::{exercise} ex-01-a\n:label: ex-01-a\n:nonumber:\nText with code:\n```python\nx = 1\n```\n:::\n"
        "::::{solution} ex-01-a\n:class: dropdown\n:::{note}\ninner\n:::\nend\n::::\ntail"
    )
    found = directives(text)
    assert [(d.name, d.argument, d.label) for d in found] == [
        ("exercise", "ex-01-a", "ex-01-a"),
        ("solution", "ex-01-a", None),
    ]
    lines = text.splitlines()
    assert lines[found[0].last_line] == ":::" and found[0].first_line == 1
    assert lines[found[1].last_line] == "::::" and lines[found[1].last_line + 1] == "tail"


def test_tiny_chapter_is_parsed(tiny_chapter):
    nb = nbformat.read(tiny_chapter, as_version=4)
    exercises = parse_exercises(nb)
    assert [(e.label, e.solution_cells, e.check_cells, e.prose_solution) for e in exercises] == [
        ("ex-99-mean", (3,), (5,), False),
        ("ex-99-norm", (7,), (9,), False),
        ("ex-99-why", (), (), True),
    ]
    assert [e.is_code for e in exercises] == [True, True, False]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_three_to_five_well_formed_exercises(path):
    nb = nbformat.read(path, as_version=4)
    assert exercise_problems(nb) == []
    exercises = parse_exercises(nb)
    assert 3 <= len(exercises) <= 5
    for exercise in exercises:
        assert exercise.label.startswith("ex-")
        assert exercise.prose_solution or exercise.is_code


def _no_check(nb):
    nb.cells[5].metadata["tags"] = []


def _two_code_cells(nb):
    nb.cells.insert(4, nbformat.v4.new_code_cell("helper = 1", metadata={"tags": ["solution"]}))


def _untagged(nb):
    nb.cells[3].metadata["tags"] = []


def _no_function(nb):
    nb.cells[3].source = "answer = 2"


def _syntax_error(nb):
    nb.cells[3].source = "def mean(values:\n    pass"


def _unknown_label(nb):
    nb.cells[2].source = nb.cells[2].source.replace("solution-start} ex-99-mean", "solution-start} ex-99-typo")


def _unclosed(nb):
    del nb.cells[8]


def _stray_end(nb):
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("```{solution-end}\n```"))


def _check_without_assert(nb):
    nb.cells[5].source = "print(mean(numbers))"


def _duplicate_label(nb):
    nb.cells[6].source = nb.cells[6].source.replace(":label: ex-99-norm", ":label: ex-99-mean")


def _numbered(nb):
    nb.cells[6].source = nb.cells[6].source.replace(":::{exercise} ex-99-norm\n", ":::{exercise}\n")


def _missing_label(nb):
    nb.cells[6].source = nb.cells[6].source.replace(":label: ex-99-norm\n", "")


def _solution_outside(nb):
    nb.cells[1].metadata["tags"] = ["solution"]


def _orphan_check(nb):
    nb.cells[1].metadata["tags"] = ["check"]


def _no_solution(nb):
    nb.cells[10].source = ":::{exercise} ex-99-why\n:label: ex-99-why\n:nonumber:\nWhy?\n:::"


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_no_check, "without a check cell"),
        (_two_code_cells, "exactly one code cell"),
        (_untagged, "is not tagged 'solution'"),
        (_no_function, "defines no function"),
        (_syntax_error, "does not parse"),
        (_unknown_label, "'ex-99-typo', which no exercise directive"),
        (_unclosed, "has no solution-end"),
        (_stray_end, "solution-end without a solution-start"),
        (_check_without_assert, "check cell without an assert"),
        (_duplicate_label, "used twice"),
        (_numbered, "must show its label as its one name"),
        (_missing_label, "without a :label:"),
        (_solution_outside, "outside a solution-start/solution-end pair"),
        (_orphan_check, "follows no exercise's solution"),
        (_no_solution, "ex-99-why: no solution"),
    ],
)
def test_broken_exercises_are_reported(tiny_chapter, breaker, message):
    nb = nbformat.read(tiny_chapter, as_version=4)
    assert exercise_problems(nb) == []
    breaker(nb)
    problems = exercise_problems(nb)
    assert any(message in p for p in problems), problems
    with pytest.raises(ValueError, match="convention"):
        parse_exercises(nb)
