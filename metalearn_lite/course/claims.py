"""The rule that makes "claims are code" a property of the build: no measured number typed into prose.

A number a reader sees in a chapter's Markdown must be one of

* glued from the chapter's own run (``{glue:text}`name:.2f```, see :mod:`metalearn_lite.book`);
* rendered from a benchmark results file (a code cell's output, :mod:`metalearn_lite.results`);
* a setting: the integers of a setup ("5-way 1-shot", "3,000 iterations", "28 × 28"), hyperparameters
  written as code or math (```inner_lr=0.4```, ``$\\alpha = 0.01$``), section numbers;
* quoted from a paper, with its citation (``{footcite:p}`finn2017```, or "Koch et al. (2015)" in Markdown
  outside the book) in the same sentence or table row.

:func:`claim_problems` finds what looks like a *measurement* in prose that is none of these: a
percentage, a decimal, a "±", a duration, a speed-up ("6x faster"). It does not try to read
integers (settings are mostly integers, and a rule that fired on every count would teach people to
silence it). The escape, for a true setting the rule cannot tell apart (a fraction held out, a
learning rate in words), is explicit and rare: an HTML comment ``<!-- setting: why -->`` in the same
paragraph or table row, invisible in the book and in Colab. ``tests/test_claims.py`` shows the rule
accepts the book and rejects a deliberately bad notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["claim_problems", "markdown_claim_problems", "readme_claim_problems"]

_FENCE = re.compile(r"^(```|~~~|:::).*?^\1[^\n]*$", re.S | re.M)
_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_MATH = re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$")
_CODE = re.compile(r"``.+?``|`[^`\n]+`")
_ROLE = re.compile(r"\{[a-z:-]+\}`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CITATION = re.compile(r"\{(foot)?cite(:[a-z]+)?\}`")
# A plain author-year citation, for Markdown outside the book (benchmarks/README.md): "Koch et al. (2015)",
# "Snell et al. 2017", "Lake and Salakhutdinov (2013)".
_PLAIN_CITATION = re.compile(r"\b[A-Z][\w-]+(?: et al\.| and [A-Z][\w-]+),? \(?(?:19|20)\d\d[a-z]?\b"
                             r"|\b[A-Z][\w-]+ \((?:19|20)\d\d[a-z]?\)")
_ESCAPE = re.compile(r"<!--\s*setting\b")
_DIRECTIVE_OPTION = re.compile(r"^:[a-z-]+:.*$", re.M)
_HEADING = re.compile(r"^#+ .*$", re.M)

# What a measurement looks like in prose.
_MEASURES = [
    (re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)"
                r"(?!\s*(?:confidence\s+)?(?:interval|half-width|CI\b))"), "a percentage"),
    (re.compile(r"±"), "a ± interval"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?[x×](?!\w|\s*\d)"), "a ratio"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|s|seconds?|min|minutes?|hours?|CPU-s|CPU-seconds?|"
                r"CPU-minutes?|CPU-min)\b"), "a duration"),
    (re.compile(r"(?<![\w.\d])\d+\.\d+(?![\w.]*\d)"), "a decimal number"),
]
# Decimals that are section numbers: "chapter 3.3", "§4.2", "sections 3.1 and 3.2", or the first
# column of a table of chapters; and versions: "Python 3.11", "torch 2.13".
_SECTION_WORD = re.compile(r"\b([Cc]hapters?|[Ss]ections?|[Pp]arts?)\b|§")
_SECTION_NUMBER = re.compile(r"^[1-9]\.[1-9]$")
_SECTION_ROW = re.compile(r"^\s*\|\s*[1-9](?:\.[1-9])?\b")
_VERSION = re.compile(r"(?:[Pp]ython|[Tt]orch|PyTorch|[Vv]ersion|release|BY|v)\s?(?:[≥>]=?\s?)?$")


def _strip(text: str) -> str:
    """The prose of a Markdown cell: no code, math, roles, links, directive options or headings."""
    for pattern in (_FENCE, _MATH_BLOCK, _DIRECTIVE_OPTION, _HEADING):
        text = pattern.sub(" ", text)
    for pattern in (_ROLE, _CODE, _MATH, _LINK_TARGET):
        text = pattern.sub(lambda m: " CITE " if _CITATION.match(m.group(0)) else " ", text)
    return text


def _units(text: str) -> list[str]:
    """Table rows and sentences of paragraphs (comments are kept: they carry the escape)."""
    units = []
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.lstrip().startswith("|"):
            rows = paragraph.strip().splitlines()
            chapters = bool(re.search(r"chapter|§", rows[0], re.I))  # a column of section numbers
            units += [row + (" <!-- chapters -->" if chapters else "") for row in rows]
            continue
        escaped = bool(_ESCAPE.search(paragraph))
        sentences = re.split(r"(?<=[.!?:;])(?<!et al\.)\s+(?=[A-Z*(\"“])", paragraph.replace("\n", " "))
        units += [s + (" <!-- setting -->" if escaped else "") for s in sentences]
    return units


def markdown_claim_problems(markdown: str) -> list[str]:
    """What in one Markdown text looks like a typed measurement (see the module docstring)."""
    problems = []
    for unit in _units(_FENCE.sub(" ", markdown)):
        if _ESCAPE.search(unit):
            continue
        prose = _strip(_COMMENT.sub(" ", unit))
        if "CITE" in prose or _PLAIN_CITATION.search(prose):
            continue
        flagged: list[tuple[int, int]] = []
        for pattern, kind in _MEASURES:
            for match in pattern.finditer(prose):
                if any(start <= match.start() < end for start, end in flagged):
                    continue
                number = match.group(0).strip()
                before = prose[: match.start()]
                section = _SECTION_NUMBER.match(number) and (
                    _SECTION_WORD.search(before) or "<!-- chapters -->" in unit
                    or _SECTION_ROW.match(unit) and "|" not in before.strip()[1:])
                if kind == "a decimal number" and (_VERSION.search(before) or section):
                    continue
                flagged.append(match.span())
                problems.append(f"{kind} typed into the prose: {number!r} in {' '.join(prose.split())[:140]!r}")
    return problems


def readme_claim_problems(path: str | Path) -> list[str]:
    """:func:`markdown_claim_problems` of a Markdown file whose tables are rendered from results files
    (``<!-- results: ... -->`` blocks, see :mod:`metalearn_lite.results`): the prose around them."""
    text = re.sub(r"<!-- results:.*?<!-- end results -->", " ", Path(path).read_text(encoding="utf-8"), flags=re.S)
    return markdown_claim_problems(text)


def claim_problems(path: str | Path) -> list[str]:
    """:func:`markdown_claim_problems` of every Markdown cell of the notebook ``path``, cell by cell.

    The title cell's running-time line ("Runs in about 3 minutes on two CPU cores") is exempt: the
    book build measures it against the executed notebook's time instead.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source = cell.source
        if index == 0:
            source = re.sub(r"\*\*Runs in\*\*.*?(?:\n\n|$)", "\n\n", source, flags=re.S | re.I)
        problems += [f"{Path(path).name} cell {index}: {p}" for p in markdown_claim_problems(source)]
    return problems
