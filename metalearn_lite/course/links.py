"""The book's external links: listed in one place, ``book/external-links.yml``, and checked offline.

Sphinx's ``linkcheck`` needs the network, which the book's CI does not have. Internal links and
cross-references are checked by the ``-W -n`` build; external URLs are checked here instead:

* every URL in the book's prose (``book/**/*.md``, the markdown cells of ``notebooks/*.ipynb``,
  and the ``url`` and ``doi`` fields of ``book/references.bib``) must be listed in the registry,
  and every listed URL must still be used;
* each one must be well-formed: ``https``, a real host name, no credentials, port, whitespace or
  stray punctuation, valid percent-escapes; a DOI must look like ``10.NNNN/suffix``.

URLs inside code (fenced blocks, inline code) are examples, not links, and are skipped. URLs that
:class:`~metalearn_lite.course.config.BookConfig` derives from ``_config.yml`` (the repository,
Colab badges and launch links) are not listed: ``tests/test_notebooks.py`` checks them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from .config import COLAB_BADGE_IMAGE, BookConfig, read_notebook

__all__ = ["REGISTRY", "find_urls", "link_problems", "load_registry", "url_problems"]

REGISTRY = "book/external-links.yml"
_URL = re.compile(r"""https?://[^\s<>"'`)\]}]+""")
_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.S)
_BIB_FIELD = re.compile(r"(?<![\w-])(?P<field>url|doi)\s*=\s*[{\"](?P<value>[^}\"]+)[}\"]", re.I)
_HOST = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z]{2,63}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def url_problems(url: str) -> list[str]:
    """What is wrong with the form of an external ``url`` (an empty list when nothing)."""
    problems = []
    if re.search(r"\s", url):
        problems.append("contains whitespace")
    parts = urlsplit(url)
    if parts.scheme != "https":
        problems.append(f"scheme {parts.scheme or 'missing'!r}: use https")
    host = parts.hostname or ""
    if not _HOST.match(host):
        problems.append(f"host {host!r} is not a public domain name")
    if parts.username or parts.password:
        problems.append("carries credentials")
    try:
        if parts.port is not None:
            problems.append(f"names a port ({parts.port})")
    except ValueError:
        problems.append("has an invalid port")
    if re.search(r"%(?![0-9A-Fa-f]{2})", url):
        problems.append("has an invalid percent-escape")
    if re.search(r"[.,;:!?'\"]$", url):
        problems.append("ends in punctuation that probably belongs to the sentence")
    if "\\" in url:
        problems.append("contains a backslash")
    return problems


def _markdown_urls(text: str) -> list[str]:
    text = _INLINE_CODE.sub(" ", _FENCED.sub(" ", text))
    return [m.group(0).rstrip(".,;:!?") for m in _URL.finditer(text)]


def find_urls(root: str | Path = ".") -> dict[str, list[str]]:
    """Every external URL in the book's prose and bibliography, with where each occurs.

    DOIs from ``references.bib`` appear as ``https://doi.org/<doi>``.
    """

    root = Path(root)
    found: dict[str, list[str]] = {}

    def add(url: str, where: str) -> None:
        found.setdefault(url, []).append(where)

    for path in sorted((root / "book").rglob("*.md")):
        for url in _markdown_urls(path.read_text(encoding="utf-8")):
            add(url, path.relative_to(root).as_posix())
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = read_notebook(path)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                for url in _markdown_urls(cell.source):
                    add(url, f"{path.relative_to(root).as_posix()} cell {index + 1}")
    for path in sorted((root / "book").rglob("*.bib")):
        for m in _BIB_FIELD.finditer(path.read_text(encoding="utf-8")):
            value = m["value"].strip()
            if m["field"].lower() == "doi":
                if not _DOI.match(value):
                    add(f"doi:{value}", path.relative_to(root).as_posix())
                    continue
                value = f"https://doi.org/{value}"
            add(value, path.relative_to(root).as_posix())
    return found


def load_registry(root: str | Path = ".") -> list[str]:
    """The URLs listed in ``book/external-links.yml`` (a YAML list under ``links``), in order."""
    import yaml

    path = Path(root) / REGISTRY
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    links = data.get("links") if isinstance(data, dict) else None
    if not isinstance(links, list) or not all(isinstance(u, str) for u in links):
        raise ValueError(f"{path} must hold a list of URL strings under 'links:'")
    return links


def _derived(url: str, config: BookConfig) -> bool:
    colab = f"https://colab.research.google.com/github/{config.owner_repo}/"
    return url == COLAB_BADGE_IMAGE or url.startswith((colab, config.repo_url + "/")) or url == config.repo_url


def link_problems(root: str | Path = ".") -> list[str]:
    """Unlisted, unused, duplicate and malformed external URLs of the book in ``root``."""
    config = BookConfig.load(root)
    registry = load_registry(root)
    used = {url: where for url, where in find_urls(root).items() if not _derived(url, config)}
    problems = [f"{REGISTRY} lists {url} twice" for url in sorted({u for u in registry if registry.count(u) > 1})]
    for url, where in used.items():
        if url.startswith("doi:"):
            problems.append(f"{url} in {where[0]} is not a DOI of the form 10.NNNN/suffix")
        elif url not in registry:
            problems.append(f"{url} (in {', '.join(where)}) is not listed in {REGISTRY}")
    for url in registry:
        if url not in used:
            problems.append(f"{REGISTRY} lists {url}, which the book no longer uses")
        problems += [f"{url}: {p}" for p in url_problems(url)]
    return problems
