"""The notebook conventions (see book/how-to-use.md), checked on the real chapters and shown to
reject deliberately broken notebooks; and the Colab setup cell executed with a fake Colab."""

from __future__ import annotations

import shutil
import sys
import types

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from metalearn_lite.course.config import BookConfig
from metalearn_lite.course.conventions import book_problems, notebook_problems, toc_files


@pytest.fixture(scope="module")
def config(repo_root):
    return BookConfig.load(repo_root)


@pytest.fixture(scope="module")
def notebooks(repo_root):
    paths = sorted((repo_root / "notebooks").glob("*.ipynb"))
    assert paths, "the book has at least one chapter notebook"
    return paths


def test_repository_follows_the_conventions(repo_root):
    assert book_problems(repo_root) == []


def test_every_notebook_is_in_the_toc_and_every_entry_exists(repo_root, notebooks):
    toc = toc_files(repo_root)
    assert toc[0] == "book/intro"
    for path in notebooks:
        assert f"notebooks/{path.stem}" in toc
    for entry in toc:
        assert (repo_root / f"{entry}.md").is_file() or (repo_root / f"{entry}.ipynb").is_file(), entry


def test_no_part_of_the_sidebar_repeats_its_only_chapter(repo_root):
    """A part with one chapter shows the same title twice in the sidebar: sections share parts instead."""
    import yaml

    parts = yaml.safe_load((repo_root / "_toc.yml").read_text(encoding="utf-8"))["parts"]
    single = [part["caption"] for part in parts if len(part["chapters"]) == 1]
    assert single == [], f"parts with a single chapter: {single}"


def test_intro_table_links_every_chapter(repo_root, notebooks):
    """The landing page's table maps article sections to chapters: each written chapter is linked."""
    intro = (repo_root / "book" / "intro.md").read_text(encoding="utf-8")
    for path in notebooks:
        assert f"{{doc}}`../notebooks/{path.stem}`" in intro, f"book/intro.md does not link {path.stem}"


def test_badges_and_install_cells_agree_with_config(config, notebooks):
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        assert config.colab_url(path) in nb.cells[0].source
        assert config.colab_url(path).endswith(f"/blob/{config.colab_branch}/notebooks/{path.name}")
        assert config.pip_requirement in nb.cells[1].source
        assert config.repo_url.removeprefix("https://") in config.pip_requirement


# --- the checker rejects what it should ------------------------------------------------------


def _break_outputs(nb):
    cell = next(c for c in nb.cells[2:] if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    cell.execution_count = 1


def _break_badge(nb):  # points the badge at another branch, whatever _config.yml names
    nb.cells[0].source = nb.cells[0].source.replace("/blob/", "/blob/other-")


def _break_title(nb):
    nb.cells[0].source = nb.cells[0].source.replace("(背景介绍)", "")


def _break_setup_tag(nb):
    nb.cells[1].metadata["tags"] = []


def _break_setup_source(nb):  # installs from another owner's repository
    nb.cells[1].source = nb.cells[1].source.replace("git+https://github.com/", "git+https://github.com/else-")


def _break_asserts(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("assert ", "print(")


def _break_seed(nb):
    for cell in nb.cells:
        cell.source = cell.source.replace("seed_everything(", "seed(")


def _break_exercises(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("## Exercises", "## Things to try")


def _break_running_time(nb):
    nb.cells[0].source = nb.cells[0].source.replace("Runs in", "Takes")


def _break_gpu_note(nb):
    for cell in nb.cells[:6]:
        cell.source = cell.source.replace("GPU", "accelerator")


def _break_exercise_count(nb):
    extra = "".join(
        f":::{{exercise}} ex-01-extra-{i}\n:label: ex-01-extra-{i}\n:nonumber:\nMore.\n:::\n\n"
        f":::{{solution}} ex-01-extra-{i}\nYes.\n:::\n\n"
        for i in range(2)
    )
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_markdown_cell(extra))


def _break_check_tag(nb):
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "check" in tags:
            tags.remove("check")


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_break_running_time, "running time on CPU"),
        (_break_gpu_note, "what a GPU changes"),
        (_break_exercise_count, "3 to 5"),
        (_break_check_tag, "without a check cell"),
        (_break_outputs, "stored outputs"),
        (_break_badge, "Colab badge"),
        (_break_title, "Chinese heading"),
        (_break_setup_tag, "setup code cell tagged"),
        (_break_setup_source, "differs from the setup cell"),
        (_break_asserts, "no assert"),
        (_break_seed, "seed_everything"),
        (_break_exercises, "Exercises"),
    ],
)
def test_checker_rejects_a_broken_notebook(tmp_path, repo_root, config, breaker, message):
    source = repo_root / "notebooks" / "01_introduction.ipynb"
    nb = nbformat.read(source, as_version=4)
    assert notebook_problems(source, config) == []
    breaker(nb)
    broken = tmp_path / source.name
    nbformat.write(nb, broken)
    problems = notebook_problems(broken, config)
    assert any(message in p for p in problems), problems


def test_checker_rejects_bad_names_and_toc_mismatches(tmp_path, repo_root):
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(repo_root / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    for page in (repo_root / "book").glob("*.md"):
        shutil.copy(page, tmp_path / "book")
    for notebook in (repo_root / "notebooks").glob("*.ipynb"):  # every chapter the toc lists
        shutil.copy(notebook, tmp_path / "notebooks")
    assert book_problems(tmp_path) == []
    shutil.copy(repo_root / "notebooks" / "01_introduction.ipynb", tmp_path / "notebooks" / "Extra Chapter.ipynb")
    (tmp_path / "notebooks" / "01_introduction.ipynb").rename(tmp_path / "notebooks" / "01_intro.ipynb")
    problems = "\n".join(book_problems(tmp_path))
    assert "lists notebooks/01_introduction, which does not exist" in problems
    assert "not NN_slug.ipynb" in problems
    assert "notebooks/01_intro is not listed in _toc.yml" in problems


# --- the Colab setup cell --------------------------------------------------------------------


class FakeIPython:
    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


def run_setup_cell(source: str, in_colab: bool, installed: bool, monkeypatch) -> list:
    ipython = FakeIPython()
    if in_colab:
        google = types.ModuleType("google")
        google.colab = types.ModuleType("google.colab")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if not installed:
        monkeypatch.setitem(sys.modules, "metalearn_lite", None)  # makes the import fail
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<setup cell>", "exec"), {"get_ipython": lambda: ipython})
    return ipython.magics


@pytest.mark.parametrize(("in_colab", "installed"), [(True, False), (True, True), (False, False), (False, True)])
def test_setup_cell_installs_only_in_colab_when_missing(config, notebooks, monkeypatch, in_colab, installed):
    for path in notebooks:
        source = nbformat.read(path, as_version=4).cells[1].source
        magics = run_setup_cell(source, in_colab, installed, monkeypatch)
        if in_colab and not installed:
            assert magics == [("pip", f'install --quiet "{config.pip_requirement}"')]
        else:
            assert magics == []


def test_config_rejects_non_github_urls():
    with pytest.raises(ValueError, match="repo_url"):
        BookConfig("https://gitlab.com/a/b")
    with pytest.raises(ValueError, match="branch"):
        BookConfig("https://github.com/a/b", branch="")
    cfg = BookConfig("https://github.com/a/b.git", branch="v1.0")
    assert cfg.owner_repo == "a/b"
    assert cfg.colab_url("x/03_metric.ipynb") == (
        "https://colab.research.google.com/github/a/b/blob/colab-v1.0/notebooks/03_metric.ipynb"
    )
    assert cfg.pip_requirement == "metalearn-lite @ git+https://github.com/a/b.git@v1.0"


# --- one chapter-reference scheme in the package and the README ---------------------------------


def test_package_and_readme_name_chapters_one_way(repo_root):
    from metalearn_lite.course.conventions import package_problems

    assert package_problems(repo_root) == []


def test_chapter_reference_check_rejects_old_and_wrong_references(tmp_path, repo_root):
    from metalearn_lite.course.conventions import package_problems

    shutil.copytree(repo_root / "metalearn_lite", tmp_path / "metalearn_lite")
    shutil.copytree(repo_root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py"))
    shutil.copy(repo_root / "README.md", tmp_path / "README.md")
    assert package_problems(tmp_path) == []
    module = tmp_path / "metalearn_lite" / "gradient" / "reptile.py"
    text = module.read_text()
    module.write_text(text.replace("§3.3 (``notebooks/05_gradient_based.ipynb``)",
                                   "§3.3 (``notebooks/06_adversarial.ipynb``), see chapter 4.2"))
    problems = "\n".join(package_problems(tmp_path))
    assert "§3.3 is 05_gradient_based.ipynb, not 06_adversarial.ipynb" in problems
    assert "not 'chapter 4'" in problems
    module.write_text('"""No chapter here."""\n')
    assert "reptile.py: the module docstring names no chapter" in "\n".join(package_problems(tmp_path))
