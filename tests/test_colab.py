"""The Colab edition (``metalearn_lite.course.colab``): every chapter converts to plain Jupyter
Markdown that a CommonMark renderer shows without MyST syntax; citations, glued numbers, exercises
and solutions take their plain forms; nothing the converter cannot translate passes silently."""

from __future__ import annotations

import re

import nbformat
import pytest
from markdown_it import MarkdownIt

from metalearn_lite.course.__main__ import main
from metalearn_lite.course.colab import (
    _Bibliography,
    convert_markdown,
    convert_notebook,
    myst_leftovers,
    write_colab_edition,
)
from metalearn_lite.course.config import BookConfig


@pytest.fixture(scope="module")
def bibliography(repo_root):
    return _Bibliography(repo_root / "book" / "references.bib")


@pytest.fixture(scope="module")
def edition(repo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("colab")
    return write_colab_edition(repo_root, out)


def test_every_chapter_converts_and_renders_without_myst(repo_root, edition):
    sources = sorted((repo_root / "notebooks").glob("*.ipynb"))
    assert [p.name for p in edition] == [p.name for p in sources]
    renderer = MarkdownIt("commonmark")
    for path in edition:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            assert myst_leftovers(cell.source) == [], f"{path.name}: {myst_leftovers(cell.source)}"
            html = renderer.render(cell.source)
            text = re.sub(r"<[^>]+>", "", html)
            for myst in ("{footcite", "{glue", "{exercise}", "{solution", "{admonition}", "{footbibliography}",
                         ":label:", ":class:"):
                assert myst not in text, f"{path.name}: {myst!r} left in the rendered Markdown"
            assert not re.search(r"^:::", text, re.M), f"{path.name}: a ':::' fence left in the rendered Markdown"


def test_badges_open_the_edition_and_solutions_are_collapsed(repo_root, edition):
    config = BookConfig.load(repo_root)
    for path in edition:
        nb = nbformat.read(path, as_version=4)
        assert config.colab_url(path) in nb.cells[0].source
        assert f"/blob/{config.colab_branch}/notebooks/{path.name}" in config.colab_url(path)
        assert config.pages_url(path) in nb.cells[0].source
        assert config.pip_requirement in nb.cells[1].source, "the edition still installs the package"
        for cell in nb.cells:
            if "solution" in cell.metadata.get("tags", []):
                assert cell.metadata["cellView"] == "form" and cell.source.startswith("# @title Solution")
    chapter_8 = "\n".join(c.source for c in nbformat.read(edition[7], as_version=4).cells if c.cell_type == "markdown")
    assert "#### Exercise `ex-08-within-alphabet`" in chapter_8
    assert "<details>\n<summary>Solution to <code>ex-08-within-alphabet</code></summary>" in chapter_8
    assert "(Snell et al., 2017; Finn et al., 2017)" in chapter_8
    assert "Santoro et al. (2016)" in chapter_8
    references = chapter_8[chapter_8.index("## References"):]
    assert references.index("Lake") < references.index("Koch"), "references in order of first citation"


def test_citations_and_the_reference_list(bibliography):
    cited = []
    text = convert_markdown("As {footcite:t}`finn2017` and others {footcite:p}`nichol2018,finn2017` show.\n\n"
                            "```{footbibliography}\n```", bibliography, None, cited)
    assert text.startswith("As Finn et al. (2017) and others (Nichol et al., 2018; Finn et al., 2017) show.")
    assert cited == ["finn2017", "nichol2018"]
    assert text.count("\n- ") == 2 and "Model-Agnostic Meta-Learning" in text
    with pytest.raises(ValueError, match="citation key 'nobody2099'"):
        convert_markdown("{footcite:p}`nobody2099`", bibliography, None, [])


def test_glued_numbers_come_from_the_run_or_are_named(bibliography):
    source = "MAML reaches {glue:text}`maml_5w1s:.1%` after {glue:text}`steps` steps."
    glued = {"maml_5w1s": "0.9071", "steps": "2000"}
    assert convert_markdown(source, bibliography, glued, []) == "MAML reaches 90.7% after 2000 steps."
    plain = convert_markdown(source, bibliography, None, [])
    assert "`maml_5w1s` (printed by the code cell that computes it)" in plain
    with pytest.raises(ValueError, match="no value named 'steps'"):
        convert_markdown(source, bibliography, {"maml_5w1s": "0.9"}, [])


def test_outputs_come_from_the_matching_executed_notebook(repo_root, bibliography):
    config = BookConfig.load(repo_root)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("It is {glue:text}`x:.2f`.", id="m"),
        nbformat.v4.new_code_cell("glue('x', 1 / 3)", id="c"),
    ])
    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue('x', 1 / 3)", id="c")])
    executed.cells[0].outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "0.3333333333333333"},
        metadata={"scrapbook": {"name": "x", "mime_prefix": "application/papermill.record/"}})]
    edition, _ = convert_notebook(nb, config, bibliography, executed)
    assert edition.cells[0].source == "It is 0.33."
    assert edition.cells[1].outputs == [], "the glued value is in the text; its invisible record goes"
    executed.cells[0].source = "glue('x', 0.5)"
    with pytest.raises(ValueError, match="differ from the chapter's"):
        convert_notebook(nb, config, bibliography, executed)


@pytest.mark.parametrize("markdown", ["{numref}`fig-1`", ":::{figure} a.png\n:::", "```{mermaid}\ngraph\n```"])
def test_myst_the_converter_cannot_translate_is_refused(bibliography, markdown):
    with pytest.raises(ValueError, match="no plain-Markdown form"):
        convert_markdown(markdown, bibliography, None, [])


def test_an_earlier_edition_is_not_overwritten_without_force(repo_root, tmp_path, capsys):
    write_colab_edition(repo_root, tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["colab", str(tmp_path), "--root", str(repo_root)])
    assert exit_info.value.code == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["colab", str(tmp_path), "--root", str(repo_root), "--force"]) == 0


def test_committed_student_versions_get_a_colab_edition_with_editable_stubs(repo_root, tmp_path):
    import shutil

    from metalearn_lite.course.student import write_student_versions

    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(repo_root / "_config.yml", book / "_config.yml")
    shutil.copytree(repo_root / "book", book / "book")
    shutil.copytree(repo_root / "notebooks", book / "notebooks", ignore=shutil.ignore_patterns("*.py", ".*"))
    write_student_versions(book / "notebooks", book / "students")
    written = write_colab_edition(book, tmp_path / "out")
    students = [p for p in written if p.parent.name == "students"]
    assert len(students) == len(list((book / "notebooks").glob("*.ipynb")))
    config = BookConfig.load(book)
    for path in students:
        nb = nbformat.read(path, as_version=4)
        assert f"/blob/{config.colab_branch}/students/{path.name}" in nb.cells[0].source
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert myst_leftovers(cell.source) == [], (path.name, myst_leftovers(cell.source))
            if "solution" in cell.metadata.get("tags", []):
                assert "cellView" not in cell.metadata and "raise NotImplementedError" in cell.source
