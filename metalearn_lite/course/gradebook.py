"""What an instructor keeps from a batch of graded submissions: a gradebook and a sheet for the
prose answers.

* :func:`write_gradebook`: a CSV with one row per submission and one column per exercise: the points
  earned by each checked exercise (all its points when its check passes, none otherwise), an empty
  cell for each prose exercise (to be filled in by hand), the total, the maximum of the checked
  exercises, and what stopped a submission from being graded, if anything.
* :func:`write_manual_sheet`: a Markdown sheet with every student's answer to every prose exercise
  (the cells tagged ``answer`` of the student versions), grouped by exercise.

Points come from a JSON file ``{"ex-01-class-means": 2, ...}``; an exercise not listed is worth one
point. ``python -m metalearn_lite.course check ... --gradebook grades.csv --manual answers.md
--points points.json``; taught in ``book/for-instructors.md``.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from .grading import MANUAL, PASS, Report

__all__ = ["load_points", "submission_names", "write_gradebook", "write_manual_sheet"]


def load_points(path: str | Path | None) -> dict[str, float]:
    """The points per exercise label in the JSON file ``path`` (empty when ``path`` is None)."""
    if path is None:
        return {}
    try:
        points = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--points must be a JSON file of exercise labels to points, {path}: {error}") from error
    if not isinstance(points, dict) or not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            for k, v in points.items()):
        raise ValueError(f"--points {path} must map exercise labels to non-negative numbers, e.g. "
                         '{"ex-01-class-means": 2}')
    return points


def submission_names(reports: list[Report]) -> list[str]:
    """A name per submission: its path relative to the folder all submissions share
    (``alice/01_introduction.ipynb`` for per-student folders of same-named files)."""
    paths = [Path(r.notebook).resolve() for r in reports]
    if len(paths) == 1:
        return [paths[0].name]
    common = Path(os.path.commonpath(paths))
    return [p.relative_to(common).as_posix() for p in paths]


def _refuse_to_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise ValueError(f"{path} exists; refusing to overwrite it (choose another file, or pass --force)")


def write_gradebook(reports: list[Report], path: str | Path, points: dict[str, float] | None = None,
                    force: bool = False) -> Path:
    """Write the CSV gradebook of ``reports`` to ``path`` (see the module docstring); returns it."""
    path, points = Path(path), points or {}
    _refuse_to_overwrite(path, force)
    labels = list(dict.fromkeys(r.label for report in reports for r in report.results))
    rows = []
    for name, report in zip(submission_names(reports), reports, strict=True):
        status = {r.label: r.status for r in report.results}
        row = {"submission": name}
        for label in labels:
            if label not in status or status[label] == MANUAL:
                row[label] = ""
            else:
                row[label] = points.get(label, 1) if status[label] == PASS else 0
        checked = [r.label for r in report.graded]
        row["total"] = sum(v for k, v in row.items() if k in labels and v != "")
        row["max"] = sum(points.get(label, 1) for label in checked)
        row["problems"] = "; ".join(report.errors)
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", *labels, "total", "max", "problems"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_manual_sheet(reports: list[Report], path: str | Path, force: bool = False) -> Path:
    """Write every student's answer to every prose exercise, grouped by exercise, to ``path``."""
    path = Path(path)
    _refuse_to_overwrite(path, force)
    names = submission_names(reports)
    labels = list(dict.fromkeys(r.label for report in reports for r in report.results if r.status == MANUAL))
    lines = ["# Answers to the prose exercises", ""]
    for label in labels:
        lines += [f"## {label}", ""]
        for name, report in zip(names, reports, strict=True):
            answer = report.answers.get(label, "").strip()
            lines += [f"### {name}", "", answer or "*(no answer)*", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
