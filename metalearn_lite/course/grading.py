"""Grade a student's notebook: run it, and report each exercise's check as pass or fail.

``python -m metalearn_lite.course check NOTEBOOK`` executes every code cell of the notebook in a
fresh kernel of the current Python (the one with ``metalearn_lite`` installed), carrying on after
a failing cell as a person working through the notebook would, and reports per exercise:

* ``PASS``: its solution and check cells ran without an exception;
* ``FAIL``: with the message of the failing ``assert`` (or the exception a stub raises);
* ``MANUAL``: a prose exercise, which no check grades.

Errors in other cells are reported too. The exit status is non-zero when anything failed.
The exercise convention is read by ``exercises.py``; taught in ``book/for-instructors.md``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import read_notebook
from .exercises import ANSWER_PROMPT, ANSWER_TAG, parse_exercises
from .student import stub_source

__all__ = ["ExerciseResult", "Report", "check_fails_on_stub", "grade_notebook", "grade_notebooks", "trusted_notebook"]

PASS, FAIL, MANUAL = "pass", "fail", "manual"
STUB_FAILURES = ("NotImplementedError", "AssertionError")


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise: ``status`` is ``pass``, ``fail`` or ``manual``."""

    label: str
    status: str
    message: str = ""


@dataclass
class Report:
    """What ``check`` found in one notebook."""

    notebook: str
    results: list[ExerciseResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # failing cells that belong to no exercise
    answers: dict[str, str] = field(default_factory=dict)  # prose exercise -> the student's answer

    @property
    def graded(self) -> list[ExerciseResult]:
        """The exercises a check cell grades."""
        return [r for r in self.results if r.status != MANUAL]

    @property
    def passed(self) -> int:
        return sum(r.status == PASS for r in self.results)

    @property
    def ok(self) -> bool:
        """Every checked exercise passes and no other cell failed."""
        return not self.errors and all(r.status == PASS for r in self.graded)

    def format(self) -> str:
        """The report as text, one line per exercise."""
        lines = [f"Grading {self.notebook}"]
        for r in self.results:
            lines.append(f"  {r.status.upper():6s}  {r.label}" + (f": {r.message}" if r.message else ""))
        lines += [f"  ERROR   {e}" for e in self.errors]
        lines.append(f"Score: {self.passed}/{len(self.graded)} checked exercises pass" + (
            f"; {len(self.errors)} other cell(s) failed" if self.errors else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed, "checked": len(self.graded), "ok": self.ok}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _first_line(source: str) -> str:
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def _message(ename: str, evalue: str) -> str:
    if ename == "NotImplementedError" and not evalue:
        return "NotImplementedError: the function is still the stub (# YOUR CODE HERE)"
    return f"{ename}: {evalue}" if evalue else ename


def _current_python_kernel_manager():
    """A kernel manager class for this very Python, whatever kernels ``jupyter kernelspec`` lists."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(
                resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
            )

    class CurrentPythonKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return CurrentPython()

    return CurrentPythonKernelManager


def _run_cells(nb, folder: Path, timeout: float) -> tuple[dict[int, str], int | None, str]:
    """Execute the code cells of ``nb`` in order, carrying on after errors.

    Returns:
        The error message of each failing cell by index, the index of the first cell that did not
        run (None when all ran) and why it did not.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    client = NotebookClient(
        nb,
        kernel_manager_class=_current_python_kernel_manager(),
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # not the warning about TCP on loopback
        timeout=timeout,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "TimeoutError", "evalue": f"the cell ran longer than {timeout:g} s"},
        allow_errors=False,
        resources={"metadata": {"path": str(folder)}},
    )
    errors: dict[int, str] = {}
    client.reset_execution_trackers()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellExecutionError as error:
                errors[index] = _message(error.ename, error.evalue)
            except DeadKernelError:
                return errors, index, f"the kernel died while running cell {index + 1}"
    return errors, None, ""


def trusted_notebook(submission, reference):
    """The notebook the grader runs: the instructor's ``reference`` chapter (its own cells, its own
    checks) with only the solution cells taken from the student's ``submission``, matched by exercise
    label. A check the student edited or deleted is therefore never run; a solution the student did
    not write stays the stub (it fails with ``NotImplementedError``)."""
    import nbformat

    from .student import student_notebook

    theirs = {e.label: e for e in parse_exercises(submission, student=True)}
    trusted = student_notebook(reference)  # stubs in place of the instructor's solutions
    for exercise in parse_exercises(trusted, student=True):
        if exercise.is_code and exercise.label in theirs and theirs[exercise.label].solution_cells:
            (mine,) = exercise.solution_cells
            trusted.cells[mine].source = "\n\n".join(
                submission.cells[i].source for i in theirs[exercise.label].solution_cells)
    return nbformat.from_dict(trusted)


def _answers(nb) -> dict[str, str]:
    """The student's answers to the prose exercises (cells tagged ``answer``), by label."""
    answers = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and ANSWER_TAG in cell.metadata.get("tags", []):
            label = cell.metadata.get("exercise", "?")
            answers[label] = cell.source.removeprefix(ANSWER_PROMPT.format(label=label)).strip()
    return answers


def grade_notebook(path: str | Path, timeout: float = 900, reference: str | Path | None = None) -> Report:
    """Execute the notebook at ``path`` and grade each exercise by its check cells.

    Args:
        path: a chapter notebook or its student version, following the exercise convention.
        timeout: seconds any one cell may run before it is interrupted and counts as failed.
        reference: the instructor's chapter notebook. When given, the grader runs *its* cells and
            checks with the submission's solution cells put in (:func:`trusted_notebook`), so editing
            a check cannot change a grade. Without it, the submission runs as it is (a student
            checking their own work).

    Raises:
        ValueError: when the notebook has no exercise graded by a check cell, or breaks the convention.
    """

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"NOTEBOOK must be a notebook file, got {str(path)!r} (not found)")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
    nb = read_notebook(path)
    answers = _answers(nb)
    try:
        if reference is not None:
            nb = trusted_notebook(nb, read_notebook(reference))
        exercises = parse_exercises(nb, student=True)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    if not any(e.is_code for e in exercises):
        raise ValueError(f"{path} has no exercise with a check cell (tag 'check'): nothing to grade")

    errors, stopped_at, why = _run_cells(nb, path.parent.resolve(), timeout)
    report = Report(str(path), answers=answers)
    owned = set()
    for exercise in exercises:
        cells = exercise.solution_cells + exercise.check_cells
        owned.update(cells)
        if not exercise.is_code:
            report.results.append(ExerciseResult(exercise.label, MANUAL, "a prose exercise, graded by hand"))
            continue
        failed = next((i for i in cells if i in errors), None)
        if failed is not None:
            prefix = "your solution cell raised " if failed in exercise.solution_cells else ""
            report.results.append(ExerciseResult(exercise.label, FAIL, prefix + errors[failed]))
        elif stopped_at is not None and max(cells) >= stopped_at:
            report.results.append(ExerciseResult(exercise.label, FAIL, f"not run: {why}"))
        else:
            report.results.append(ExerciseResult(exercise.label, PASS))
    for index, message in sorted(errors.items()):
        if index not in owned:
            report.errors.append(f"cell {index + 1} ({_first_line(nb.cells[index].source)}): {message}")
    if stopped_at is not None and stopped_at not in owned:
        report.errors.append(why)
    return report


def grade_notebooks(paths: list[str | Path], timeout: float = 900, jobs: int = 1,
                    reference_dir: str | Path | None = None) -> list[Report]:
    """Grade several notebooks, ``jobs`` at a time (each in its own kernel); reports in order.

    A notebook that cannot be graded (unreadable, its tags broken, no matching reference) gets a
    report with that one error instead of stopping the batch. With ``reference_dir`` (the instructor's
    chapters, e.g. ``notebooks``), each submission is graded against the chapter of the same file name.
    """
    from concurrent.futures import ThreadPoolExecutor

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:  # a mistyped argument, not a submission to report on
        raise ValueError(f"NOTEBOOK must be a notebook file, got {missing[0]!r} (not found)"
                         + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    if reference_dir is not None and not Path(reference_dir).is_dir():
        raise ValueError(f"--reference must be the folder of the instructor's chapters, got {str(reference_dir)!r}")

    def grade(path) -> Report:
        reference = None if reference_dir is None else Path(reference_dir) / Path(path).name
        try:
            if reference is not None and not reference.is_file():
                raise ValueError(f"{path}: no chapter {reference.name} in {reference_dir} to grade it against")
            return grade_notebook(path, timeout, reference)
        except (ValueError, OSError) as error:
            return Report(str(path), errors=[" ".join(str(error).split())])

    with ThreadPoolExecutor(max_workers=min(jobs, len(paths)) or 1) as pool:
        return list(pool.map(grade, paths))


def check_fails_on_stub(nb, check_cell: int, run) -> str | None:
    """Prove that a check is real: in a kernel where the chapter ran up to ``check_cell``, swap the
    solution for its stub, run the check (it must fail), then put the solution back.

    Args:
        nb: the chapter notebook (with its solutions).
        check_cell: index of a cell tagged ``check`` that has just passed.
        run: executes source code in the chapter's kernel and returns ``(ename, evalue)`` of the
            exception it raised, or ``(None, "")``.

    Returns:
        None when the check fails on the stub with NotImplementedError or AssertionError, else what
        is wrong.
    """
    exercise = next(e for e in parse_exercises(nb, student=True) if check_cell in e.check_cells)
    (solution,) = (nb.cells[i].source for i in exercise.solution_cells)
    ename, evalue = run(stub_source(solution))
    if ename:
        return f"{exercise.label}: defining the stub raised {_message(ename, evalue)}"
    on_stub, _ = run(nb.cells[check_cell].source)
    ename, evalue = run(solution)
    if ename:
        return f"{exercise.label}: running the solution again raised {_message(ename, evalue)}"
    if on_stub is None:
        return f"{exercise.label}: the check passes on the stub (raise NotImplementedError): it checks nothing"
    if on_stub not in STUB_FAILURES:
        return f"{exercise.label}: on the stub the check raises {on_stub}, not one of {', '.join(STUB_FAILURES)}"
    return None
