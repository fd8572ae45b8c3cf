"""Chapter 6 shows the peers' MAML steps as text, with numbers measured by
benchmarks/peer_maml_step.py: the text must be the code that was measured, and the script must
agree with the package wherever it runs (here: the package and torch.func; the peers are skipped)."""

from __future__ import annotations

import importlib.util
import inspect
import re
import textwrap

import nbformat
import pytest

NOTEBOOK = "notebooks/11_tools_and_resources.ipynb"
SCRIPT = "benchmarks/peer_maml_step.py"
_FUNCTION = re.compile(r"^def (step_\w+)\(", re.M)


@pytest.fixture(scope="module")
def script(repo_root):
    spec = importlib.util.spec_from_file_location("peer_maml_step", repo_root / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shown_functions(repo_root) -> dict[str, str]:
    """Every ``def step_...`` in the chapter: code cells and fenced python blocks in markdown."""
    nb = nbformat.read(repo_root / NOTEBOOK, as_version=4)
    shown = {}
    for cell in nb.cells:
        blocks = [cell.source] if cell.cell_type == "code" else re.findall(r"```python\n(.*?)```", cell.source, re.S)
        for block in blocks:
            starts = [m.start() for m in _FUNCTION.finditer(block)]
            for start, end in zip(starts, [*starts[1:], len(block)][: len(starts)], strict=True):
                source = block[start:end]
                # a function ends at the first non-indented, non-blank line after its header
                lines = source.splitlines()
                body = [lines[0]]
                for line in lines[1:]:
                    if line and not line[0].isspace():
                        break
                    body.append(line)
                shown[_FUNCTION.match(source).group(1)] = "\n".join(body).rstrip() + "\n"
    return shown


def test_every_style_in_the_chapter_is_the_code_the_script_measures(repo_root, script):
    shown = _shown_functions(repo_root)
    measured = {name: step for name, (_, step) in script.STEPS.items()}
    assert {f.__name__ for f in measured.values()} <= set(shown), "each measured style appears in the chapter"
    for function in measured.values():
        assert shown[function.__name__] == textwrap.dedent(inspect.getsource(function)), function.__name__


def test_the_script_agrees_with_the_package_where_it_runs(script):
    rows = {row["library"]: row for row in script.compare()}
    assert rows["metalearn_lite"]["status"] == "ran" and rows["torch.func"]["status"] == "ran"
    for row in rows.values():
        if row["status"] == "ran":
            assert float(row["max abs diff of meta-gradient"]) < 1e-12, row
        else:
            assert row["status"].startswith("not importable"), row


def test_import_submodule_reports_a_missing_package(script):
    with pytest.raises(ImportError, match="not installed"):
        script.import_submodule("surely_not_an_installed_package", "x")
