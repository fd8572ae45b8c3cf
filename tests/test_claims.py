"""Claims are code: no measured number typed into the prose of a chapter or a book page, and the
rule that says so shown to reject the numbers it should and to accept settings and quotes."""

from __future__ import annotations

import nbformat
import pytest

from metalearn_lite.course.claims import claim_problems, markdown_claim_problems, readme_claim_problems


def test_no_chapter_types_a_measured_number(repo_root):
    problems = [p for path in sorted((repo_root / "notebooks").glob("*.ipynb")) for p in claim_problems(path)]
    assert problems == [], "\n".join(problems)


def test_no_book_page_types_a_measured_number(repo_root):
    problems = [f"{path.name}: {p}" for path in sorted((repo_root / "book").glob("*.md"))
                for p in markdown_claim_problems(path.read_text(encoding="utf-8"))]
    assert problems == [], "\n".join(problems)


def test_the_benchmark_readme_types_no_measurement_outside_its_rendered_tables(repo_root):
    problems = readme_claim_problems(repo_root / "benchmarks" / "README.md")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("text", [
    "We measured 0.82 on the held-out tasks.",
    "In 2015 we measured 92 % on the official runs.",
    "MAML reaches 93.4 % after one step.",
    "The gap is 4.7 ± 1.2 points.",
    "It is 6x faster than the loop.",
    "Training took 190 s on one core.",
    "| MAML | 70.8 | 69.6 |",
])
def test_the_rule_rejects_typed_measurements(text):
    assert markdown_claim_problems(text), text


@pytest.mark.parametrize("text", [
    "The paper reports 98.7 % {footcite}`finn2017`.",
    "| MAML, Finn et al. {footcite:p}`finn2017` | 98.7 | 99.9 |",
    "MAML reaches {glue:text}`maml_accuracy:.1%` after one step.",
    "Each episode is 5-way 1-shot with 15 queries on 28 × 28 images, for 3,000 iterations.",
    "The inner step size is `inner_lr=0.4` and $\\alpha = 0.01$.",
    "Chapter 3.3 and sections 4.1 and 4.2 use it; see §3.2.",
    "It installs with Python 3.11 and torch 2.13.",
    "A 95 % confidence interval over 600 episodes.",
    "We hold out a quarter <!-- setting: a split fraction --> of 0.25 of the characters.",
    "| 3.1 | 基于度量学习 | metric learners |",
    "For scale, Koch et al. (2015) report 92 % accuracy on trials of their own.",
])
def test_the_rule_accepts_settings_quotes_and_glued_numbers(text):
    assert markdown_claim_problems(text) == [], markdown_claim_problems(text)


def test_a_deliberately_bad_notebook_is_rejected(tmp_path, repo_root):
    nb = nbformat.read(repo_root / "notebooks" / "01_introduction.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("In our run the prototype classifier reached 57.3 %."))
    path = tmp_path / "01_introduction.ipynb"
    nbformat.write(nb, path)
    problems = claim_problems(path)
    assert any("57.3" in p and "cell 3" in p for p in problems), problems
