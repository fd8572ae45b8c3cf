"""pytest plugin for `make notebooks`: execute each chapter once, for nbval *and* for the book.

nbval runs every code cell of every notebook and fails on any exception (or on a changed output
in cells marked ``# NBVAL_CHECK_OUTPUT``). When all cells of a notebook pass, this plugin writes
the outputs nbval collected into the book's execution cache (``_build/.jupyter_cache``, the
jupyter-cache database that ``execute_notebooks: cache`` reads), so the book build that follows
renders those outputs instead of executing the notebook a second time.

It also checks each chapter's promise of its running time: the title cell's "Runs in about N
minutes" must not understate the time nbval measured by more than a factor of two (plus 30 s), nor
overstate it wildly; a summary table of both is printed at the end.

It also proves every exercise's check is real: right after a cell tagged ``check`` passes, the
same kernel runs the exercise's *stub* (what ``python -m metalearn_lite.course student`` gives
students), the check again, which must now fail with NotImplementedError or AssertionError, and
the solution again, so the rest of the chapter runs as before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

CACHE_DIR = Path(__file__).resolve().parents[1] / "_build" / ".jupyter_cache"
_outcomes: dict[str, list[str]] = defaultdict(list)
_seconds: dict[str, float] = defaultdict(float)


def _run_in_kernel(kernel, timeout: float):
    def run(source: str) -> tuple[str | None, str]:
        reply = kernel.kc.execute_interactive(
            source, store_history=False, allow_stdin=False, timeout=timeout, output_hook=lambda msg: None
        )
        content = reply["content"]
        return (content.get("ename"), content.get("evalue", "")) if content["status"] == "error" else (None, "")

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    from nbval.plugin import IPyNbCell

    if isinstance(item, IPyNbCell) and "check" in item.cell.metadata.get("tags", []):
        from metalearn_lite.course.grading import check_fails_on_stub

        nb = item.parent.nb
        index = next(i for i, cell in enumerate(nb.cells) if cell is item.cell)
        timeout = item.config.option.nbval_cell_timeout
        problem = check_fails_on_stub(nb, index, _run_in_kernel(item.parent.kernel, timeout))
        if problem:
            raise AssertionError(f"{item.parent.path.name}: {problem}")
    return result


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if report.when == "call" or report.outcome != "passed":
        _outcomes[path].append(report.outcome)
    _seconds[path] += report.duration


_WORDS = {"a few": 10, "half a": 0.5, "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def stated_seconds(title: str) -> float | None:
    """The running time a title cell promises, in seconds (the upper end of a range), or None."""
    match = re.search(r"\*\*Runs in\*\*\s+(?:about\s+)?(.+?)\s+(seconds?|minutes?)\b", title, re.I)
    if not match:
        return None
    amount, unit = match.group(1).lower(), match.group(2).lower()
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", amount)]
    value = max(numbers) if numbers else _WORDS.get(amount.strip(), None)
    if value is None:
        return None
    return value * (60 if unit.startswith("minute") else 1)


def runtime_problem(name: str, title: str, measured: float) -> str | None:
    """A message when the stated running time is far from ``measured`` seconds, else None."""
    stated = stated_seconds(title)
    if stated is None:
        return f"{name}: the title cell states no running time ('Runs in about N minutes')"
    if measured > 2 * stated + 30:
        return f"{name}: states about {stated:.0f} s but ran {measured:.0f} s; update its title cell"
    if stated > 4 * measured + 60:
        return f"{name}: states about {stated:.0f} s but ran only {measured:.0f} s; update its title cell"
    return None


_reports: list[dict] = []  # per notebook run here, or (under pytest-xdist) sent back by the workers


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Cache every notebook whose cells all passed; check and print the running times.

    Under pytest-xdist (``make notebooks`` runs one chapter per core) each worker caches the
    notebooks it ran and sends their times back (``workeroutput``); the controller prints them all
    and fails the session on a running time far from the stated one.
    """
    _reports.extend(_cache_executed(session))
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller reports
        session.config.workeroutput["notebook_reports"] = list(_reports)
        return
    for report in sorted(_reports, key=lambda r: r["nodeid"]):
        print(f"\ncached executed notebook for the book build: {report['nodeid']} ({report['measured']:.0f} s)")
        stated = report["stated"]
        print(f"running time of {report['nodeid']}: stated {stated if stated is None else round(stated)} s, "
              f"measured {report['measured']:.0f} s")
        if report["problem"]:
            print(f"error: {report['problem']}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist's controller: collect a finished worker's notebook reports."""
    _reports.extend(getattr(node, "workeroutput", {}).get("notebook_reports", []))


def _cache_executed(session: pytest.Session) -> list[dict]:
    """Write the notebooks whose cells all ran and passed in this process to the book's cache."""
    import nbformat
    from filelock import FileLock
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from nbval.plugin import IPyNbCell

    by_file: dict[object, list[IPyNbCell]] = defaultdict(list)
    for item in session.items:
        if isinstance(item, IPyNbCell):
            by_file[item.parent].append(item)
    reports = []
    for notebook, items in by_file.items():
        nodeid = items[0].nodeid.split("::")[0]
        n_code = sum(cell.cell_type == "code" for cell in notebook.nb.cells)
        outcomes = _outcomes[nodeid]
        complete = len(items) == n_code and all(hasattr(i, "test_outputs") for i in items)
        if not complete or len(outcomes) != n_code or set(outcomes) != {"passed"}:
            continue
        for count, item in enumerate(items, start=1):
            item.cell.outputs = [nbformat.from_dict(out) for out in item.test_outputs]
            item.cell.execution_count = count
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with FileLock(CACHE_DIR.parent / ".jupyter_cache.lock"):  # one writer at a time under xdist
            get_cache(CACHE_DIR).cache_notebook_bundle(
                CacheBundleIn(notebook.nb, str(notebook.path), data={"execution_seconds": _seconds[nodeid]}),
                check_validity=False,
                overwrite=True,
            )
        title = notebook.nb.cells[0].source
        reports.append({"nodeid": nodeid, "measured": _seconds[nodeid], "stated": stated_seconds(title),
                        "problem": runtime_problem(nodeid, title, _seconds[nodeid])})
    return reports
