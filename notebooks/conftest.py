"""pytest plugin for `make notebooks`: execute each chapter once, for nbval *and* for the book.

nbval runs every code cell of every notebook and fails on any exception (or on a changed output
in cells marked ``# NBVAL_CHECK_OUTPUT``). When all cells of a notebook pass, this plugin writes
the outputs nbval collected into the book's execution cache (``_build/.jupyter_cache``, the
jupyter-cache database that ``execute_notebooks: cache`` reads), so the book build that follows
renders those outputs instead of executing the notebook a second time.

It also proves every exercise's check is real: right after a cell tagged ``check`` passes, the
same kernel runs the exercise's *stub* (what ``python -m metalearn_lite.course student`` gives
students), the check again, which must now fail with NotImplementedError or AssertionError, and
the solution again, so the rest of the chapter runs as before.
"""

from __future__ import annotations

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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from nbval.plugin import IPyNbCell

    by_file: dict[object, list[IPyNbCell]] = defaultdict(list)
    for item in session.items:
        if isinstance(item, IPyNbCell):
            by_file[item.parent].append(item)
    cache = None
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
        cache = cache or get_cache(CACHE_DIR)
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook.nb, str(notebook.path), data={"execution_seconds": _seconds[nodeid]}),
            check_validity=False,
            overwrite=True,
        )
        print(f"\ncached executed notebook for the book build: {nodeid} ({_seconds[nodeid]:.0f} s)")
