"""Grading an instructor can trust (``check --reference``, ``course/gradebook.py``): a batch of four
submissions in per-student folders, all named like the chapter: one solved, one left as handed out,
one whose checks were replaced by ``assert True``, one that is not a notebook. The tampered one
fails against the instructor's checks, the broken one is reported without stopping the rest, and the
gradebook and the sheet of prose answers say so."""

from __future__ import annotations

import csv
import json

import pytest
from submissions import ALICE_ANSWER, write_submissions

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.gradebook import load_points
from metalearn_lite.course.grading import grade_notebook
from metalearn_lite.course.student import write_student_versions


@pytest.fixture
def batch(tiny_chapter, tmp_path):
    (handout,) = write_student_versions(tiny_chapter.parent, tmp_path / "students")
    return tiny_chapter, write_submissions(tiny_chapter, handout, tmp_path / "submissions")


def test_an_edited_check_passes_only_without_the_reference(batch):
    chapter, paths = batch
    assert grade_notebook(paths["carol"], timeout=60).ok, "run as handed in, the cheat works"
    against = grade_notebook(paths["carol"], timeout=60, reference=chapter)
    assert [(r.label, r.status) for r in against.results] == [
        ("ex-99-mean", "fail"), ("ex-99-norm", "fail"), ("ex-99-why", "manual")]
    assert grade_notebook(paths["alice"], timeout=60, reference=chapter).ok


def test_a_batch_yields_a_gradebook_and_a_sheet_of_answers(batch, tmp_path, capsys):
    chapter, paths = batch
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"ex-99-mean": 2}), encoding="utf-8")
    grades, answers = tmp_path / "grades.csv", tmp_path / "answers.md"
    arguments = ["check", *(str(paths[s]) for s in ("alice", "bob", "carol", "dave")), "--reference",
                 str(chapter.parent), "--gradebook", str(grades), "--manual", str(answers), "--points", str(points),
                 "--timeout", "60", "--jobs", "2"]
    assert main(arguments) == 1
    out = capsys.readouterr().out
    assert "Score: 2/2" in out and out.count("Score: 0/2") == 2 and "not a readable Jupyter notebook" in out

    rows = {row["submission"]: row for row in csv.DictReader(grades.open(encoding="utf-8"))}
    assert list(rows) == [f"{s}/{chapter.name}" for s in ("alice", "bob", "carol", "dave")]
    alice, bob, carol, dave = rows.values()
    assert (alice["ex-99-mean"], alice["ex-99-norm"], alice["ex-99-why"], alice["total"], alice["max"]) == (
        "2", "1", "", "3", "3")
    assert (bob["total"], carol["total"], carol["max"]) == ("0", "0", "3")
    assert dave["total"] == "0" and "not a readable Jupyter notebook" in dave["problems"]

    sheet = answers.read_text(encoding="utf-8")
    assert "## ex-99-why" in sheet and ALICE_ANSWER in sheet
    assert sheet.count("*(no answer)*") == 3, "bob, carol and dave wrote nothing"

    with pytest.raises(SystemExit) as exit_info:  # the gradebook of the first run is not overwritten
        main(arguments)
    assert exit_info.value.code == 2 and "refusing to overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["[1, 2]", '{"ex-1": -1}', '{"ex-1": true}', "not json"])
def test_bad_points_files_are_refused(tmp_path, content):
    path = tmp_path / "points.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="--points"):
        load_points(path)
