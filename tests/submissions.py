"""A batch of graded submissions, shared by the grading tests (``test_course_gradebook.py``) and the
instructors' page followed literally (``test_for_instructors.py``)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from metalearn_lite.course.exercises import parse_exercises

STUDENTS = ("alice", "bob", "carol", "dave")
ALICE_ANSWER = "Because ALICE-SAYS-SO."


def write_submissions(chapter: Path, handout: Path, folder: Path) -> dict[str, Path]:
    """Four submissions of ``handout`` (the student version of ``chapter``), one folder per student:
    alice solved every code exercise (the chapter's solutions) and answered the prose ones, bob
    handed the notebook back as it was, carol replaced every check by ``assert True``, and dave's
    file is not a notebook. Returns the path of each submission by student."""
    source = nbformat.read(chapter, as_version=4)
    solutions = {e.label: source.cells[e.solution_cells[0]].source for e in parse_exercises(source) if e.is_code}
    paths = {}
    for student in STUDENTS:
        nb = nbformat.read(handout, as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if student == "alice" and "solution" in tags:
                cell.source = solutions[cell.metadata["exercise"]]
            if student == "alice" and "answer" in tags:
                cell.source += ALICE_ANSWER
            if student == "carol" and "check" in tags:
                cell.source = "assert True"  # the cheat
        paths[student] = folder / student / chapter.name
        paths[student].parent.mkdir(parents=True)
        nbformat.write(nb, paths[student])
    paths["dave"].write_text("{}", encoding="utf-8")
    return paths
