"""External links: all listed in book/external-links.yml, all used, all well-formed (offline)."""

from __future__ import annotations

import shutil

import pytest

from metalearn_lite.course.links import REGISTRY, find_urls, link_problems, load_registry, url_problems


def test_the_book_lists_every_external_link_it_uses(repo_root):
    assert link_problems(repo_root) == []
    assert load_registry(repo_root), "the registry is not empty"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.org/", "use https"),
        ("https://localhost/x", "not a public domain name"),
        ("https://10.0.0.1/x", "not a public domain name"),
        ("https://exa mple.org", "whitespace"),
        ("https://user:pw@example.org/", "credentials"),
        ("https://example.org:8443/", "port"),
        ("https://example.org/a%zz", "percent-escape"),
        ("https://example.org/page.", "punctuation"),
        ("https://-bad.org/", "not a public domain name"),
        ("example.org/page", "scheme"),
    ],
)
def test_malformed_urls_are_reported(url, problem):
    assert any(problem in p for p in url_problems(url)), url_problems(url)


@pytest.mark.parametrize("url", ["https://doi.org/10.1126/science.aab3050", "https://nbval.readthedocs.io",
                                 "https://en.wikipedia.org/wiki/Meta-learning_(computer_science)"])
def test_good_urls_pass(url):
    assert url_problems(url) == []


@pytest.fixture
def book(tmp_path, repo_root):
    shutil.copy(repo_root / "_config.yml", tmp_path)
    shutil.copytree(repo_root / "book", tmp_path / "book")
    shutil.copytree(repo_root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py"))
    assert link_problems(tmp_path) == []
    return tmp_path


def test_unlisted_unused_and_bad_entries_are_reported(book):
    page = book / "book" / "how-to-use.md"
    page.write_text(page.read_text() + "\nSee <https://example.org/new-tool> and `https://example.org/in-code`.\n"
                    "```bash\ncurl https://example.org/in-a-block\n```\n")
    registry = book / REGISTRY
    registry.write_text(registry.read_text() + "  - http://example.org/old\n  - https://nbval.readthedocs.io\n")
    bib = book / "book" / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{x, title = {X}, doi = {not-a-doi}, url = {https://example.org/paper}}\n")
    problems = "\n".join(link_problems(book))
    assert "https://example.org/new-tool (in book/how-to-use.md) is not listed" in problems
    assert "https://example.org/paper (in book/references.bib) is not listed" in problems
    assert "doi:not-a-doi in book/references.bib is not a DOI" in problems
    assert "lists http://example.org/old, which the book no longer uses" in problems
    assert "http://example.org/old: scheme 'http': use https" in problems
    assert "lists https://nbval.readthedocs.io twice" in problems
    assert "in-code" not in problems and "in-a-block" not in problems, "code is not prose"


def test_derived_colab_and_repository_urls_are_found_but_not_listed(repo_root):
    found = find_urls(repo_root)
    assert any(u.startswith("https://colab.research.google.com/github/") for u in found)
    assert not any(u.startswith("https://colab.research.google.com/github/") for u in load_registry(repo_root))
