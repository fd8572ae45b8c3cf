"""The Colab edition: every chapter as plain Jupyter Markdown, with the outputs of the CI run.

The book's notebooks are written in MyST (``:::{exercise}``, ``{footcite:p}`finn2017```,
``{glue:text}`maml_5w1s:.1%```), which Jupyter Book renders and Colab shows as raw text. This module
turns each chapter into a notebook any Jupyter front end reads cleanly:

* exercises become headed blocks, admonitions block quotes, solutions written in Markdown
  collapsible ``<details>``; solution *code* cells are collapsed with Colab's ``# @title`` form;
* citations become author–year, and ``{footbibliography}`` the chapter's reference list;
* glued numbers become their values from the executed notebook (the CI run's, from the book's
  execution cache), or, without one, the name of the number the code cell prints when it runs;
* cross-references become plain text; the "Open in Colab" badge points at the edition itself.

``python -m metalearn_lite.course colab OUT_DIR [--executed CACHE]`` writes it; the Pages workflow
publishes it to the branch :attr:`~metalearn_lite.course.config.BookConfig.colab_branch`, which every
badge and the book's Colab launch button open. ``tests/test_colab.py`` converts every chapter and
checks that no MyST is left and that a plain CommonMark renderer shows it cleanly.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from .config import COLAB_BADGE, BookConfig, read_notebook
from .exercises import directives

__all__ = ["convert_markdown", "convert_notebook", "executed_notebooks", "myst_leftovers", "write_colab_edition"]

_OPTION = re.compile(r"^:(?P<key>[a-z-]+):[ \t]*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<content>[^`]*)`")
_LEFTOVERS = [
    (re.compile(r"\{[a-z][a-z:-]*\}`"), "a MyST role"),
    (re.compile(r"^\s*(:{3,}|`{3,})\s*\{", re.M), "a MyST directive"),
    (re.compile(r"^:{3,}\s*$", re.M), "a closing ':::' fence"),
    (re.compile(r"^:(label|class|nonumber|name):", re.M), "a directive option"),
]


def _strip_braces(text: str) -> str:
    return re.sub(r"[{}]", "", text).strip()


class _Bibliography:
    """Author–year citations and reference lists from ``book/references.bib`` (parsed with pybtex)."""

    def __init__(self, path: Path) -> None:
        from pybtex.database import parse_file

        self.entries = parse_file(str(path)).entries

    def _entry(self, key: str):
        if key not in self.entries:
            raise ValueError(f"citation key {key!r} is not in book/references.bib")
        return self.entries[key]

    def _names(self, key: str) -> str:
        people = self._entry(key).persons.get("author") or self._entry(key).persons.get("editor") or []
        last = [_strip_braces(" ".join(p.prelast_names + p.last_names)) for p in people] or ["Anonymous"]
        if len(last) == 1:
            return last[0]
        return f"{last[0]} and {last[1]}" if len(last) == 2 else f"{last[0]} et al."

    def year(self, key: str) -> str:
        return _strip_braces(self._entry(key).fields.get("year", "n.d."))

    def cite(self, keys: list[str], textual: bool) -> str:
        if textual:
            return ", ".join(f"{self._names(k)} ({self.year(k)})" for k in keys)
        return "(" + "; ".join(f"{self._names(k)}, {self.year(k)}" for k in keys) + ")"

    def reference(self, key: str) -> str:
        entry = self._entry(key)
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        authors = ", ".join(_strip_braces(" ".join(p.first_names + p.middle_names + p.prelast_names + p.last_names))
                            for p in people)
        fields = entry.fields
        venue = next((fields[f] for f in ("journal", "booktitle", "publisher", "howpublished") if f in fields), None)
        parts = [f"{authors} ({self.year(key)}).", f"*{_strip_braces(fields.get('title', key))}*."]
        if venue:
            parts.append(_strip_braces(venue) + ".")
        link = fields.get("url") or (f"https://doi.org/{fields['doi']}" if "doi" in fields else None)
        if link:
            parts.append(f"<{link}>")
        return " ".join(parts)


def _format_glued(name: str, spec: str, glued: dict[str, str] | None) -> str:
    if glued is None:
        return f"`{name}` (printed by the code cell that computes it)"
    if name not in glued:
        raise ValueError(f"the executed notebook glues no value named {name!r}")
    text = glued[name]
    try:
        value: Any = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        value = text.strip("'\"")
    return format(value, spec) if spec else str(value)


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip("\n").splitlines())


def convert_markdown(source: str, bibliography: _Bibliography, glued: dict[str, str] | None,
                     cited: list[str]) -> str:
    """One Markdown cell in plain Jupyter Markdown; ``cited`` collects the citation keys in order."""

    def role(match: re.Match) -> str:
        name, content = match["role"], match["content"]
        if name in ("footcite:p", "footcite:t", "cite:p", "cite:t", "footcite", "cite"):
            keys = [k.strip() for k in content.split(",") if k.strip()]
            cited.extend(k for k in keys if k not in cited)
            return bibliography.cite(keys, textual=name.endswith(":t"))
        if name == "glue:text":
            key, _, spec = content.partition(":")
            return _format_glued(key, spec, glued)
        if name == "ref":
            return f"exercise `{content}`" if content.startswith("ex-") else f"`{content}`"
        if name == "math":
            return f"${content}$"
        if name == "doc":
            return f"`{content}`"
        raise ValueError(f"no plain-Markdown form for the MyST role {{{name}}}")

    def directive(name: str, arg: str, body: str) -> str:
        if name == "exercise":
            return f"#### Exercise `{arg}`\n\n{body}"
        if name == "solution":
            return f"<details>\n<summary>Solution to <code>{arg}</code></summary>\n\n{body}\n\n</details>"
        if name == "solution-start":
            return f"**Solution to `{arg}`** (the cells below, collapsed; try the exercise first)"
        if name == "solution-end":
            return "*End of the solution.*"
        if name == "admonition":
            return _blockquote(f"**{arg}**\n\n{body}")
        if name in ("note", "tip", "warning", "important", "caution"):
            return _blockquote(f"**{name.capitalize()}**\n\n{body}")
        if name == "footbibliography":
            return "\n".join(f"- {bibliography.reference(k)}" for k in cited) or "*No works cited.*"
        raise ValueError(f"no plain-Markdown form for the MyST directive {{{name}}}")

    # Roles first (citations fill ``cited``), directives after, so the bibliography sees every key.
    # The directives are found by the parser the exercise convention uses (``exercises.directives``).
    lines = _ROLE.sub(role, source).splitlines()
    for found in reversed(directives("\n".join(lines))):
        body = lines[found.first_line + 1 : found.last_line]
        while body and _OPTION.match(body[0]):  # :label:, :class:, :nonumber: have no plain form
            body.pop(0)
        lines[found.first_line : found.last_line + 1] = [
            directive(found.name, found.argument, "\n".join(body).strip("\n"))]
    return "\n".join(lines)


def myst_leftovers(markdown: str) -> list[str]:
    """The MyST syntax left in ``markdown`` (an empty list for plain Jupyter Markdown)."""
    found = []
    for pattern, what in _LEFTOVERS:
        found += [f"{what}: {m.group(0).strip()!r}" for m in pattern.finditer(markdown)]
    return found


def _glued_values(notebook) -> dict[str, str]:
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                values[record["name"]] = output["data"][record["mime_prefix"] + "text/plain"]
    return values


def convert_notebook(notebook, config: BookConfig, bibliography: _Bibliography, executed=None,
                     collapse_solutions: bool = True):
    """The Colab edition of one chapter (a new notebook); ``executed`` supplies outputs and glued values.
    ``collapse_solutions=False`` for a student version, whose solution cells are stubs to edit."""
    result = copy.deepcopy(notebook)
    if executed is not None:  # the execution cache keeps the code cells: match them by id
        ran = {cell.get("id"): cell for cell in executed.cells if cell.cell_type == "code"}
        code = [cell for cell in result.cells if cell.cell_type == "code"]
        if [cell.get("id") for cell in code] != list(ran) or any(ran[c.get("id")].source != c.source for c in code):
            raise ValueError("the executed notebook's code cells differ from the chapter's (an old run?); "
                             "rerun the notebooks")
        for cell in code:  # the glued values are in the text now: their invisible records go
            cell.outputs = [o for o in ran[cell.get("id")].outputs if "scrapbook" not in o.get("metadata", {})]
            cell.execution_count = ran[cell.get("id")].execution_count
    glued = _glued_values(executed) if executed is not None else None
    cited: list[str] = []
    for index, cell in enumerate(result.cells):
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(notebook.cells[index].source, bibliography, glued, cited)
        elif collapse_solutions and "solution" in cell.metadata.get("tags", []):
            cell.source = "# @title Solution (double-click to show the code)\n" + cell.source
            cell.metadata["cellView"] = "form"
    return result, result.cells[0]


def executed_notebooks(cache_dir: str | Path) -> dict[str, Any]:
    """The executed notebooks in the book's execution cache (``_build/.jupyter_cache``), by file name."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    found = {}
    for record in sorted(cache.list_cache_records(), key=lambda r: r.created):
        found[Path(record.uri).name] = cache.get_cache_bundle(record.pk).nb
    return found


def write_colab_edition(root: str | Path, out_dir: str | Path, cache_dir: str | Path | None = None,
                        force: bool = False) -> list[Path]:
    """Write the Colab edition of every chapter under ``out_dir/notebooks`` and of every committed
    student version (``students/``, stubs left editable) under ``out_dir/students``; returns the paths.

    Args:
        root: the book's root (``_config.yml``, ``notebooks/``, ``book/references.bib``).
        cache_dir: the execution cache whose outputs and glued values to use (``None``: no outputs).
        force: overwrite notebooks already in ``out_dir/notebooks`` (refused otherwise).

    Raises:
        ValueError: MyST the converter cannot translate, a glued name the run did not produce, an
            executed notebook that does not match its chapter, or existing files without ``force``.
    """
    root, out_dir = Path(root), Path(out_dir)
    config = BookConfig.load(root)
    bibliography = _Bibliography(root / "book" / "references.bib")
    executed = executed_notebooks(cache_dir) if cache_dir is not None else {}
    sources = sorted((root / "notebooks").glob("*.ipynb"))
    if not sources:
        raise ValueError(f"no notebooks in {root / 'notebooks'}")
    students = sorted((root / "students").glob("*.ipynb"))  # committed student versions, if any
    targets = [out_dir / "notebooks" / p.name for p in sources] + [out_dir / "students" / p.name for p in students]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise ValueError(f"{out_dir} already holds {len(existing)} of the notebooks; pass --force to overwrite them")
    import nbformat

    written = []
    for path, target in zip(sources + students, targets, strict=True):
        chapter = target.parent.name == "notebooks"
        if chapter and cache_dir is not None and path.name not in executed:
            raise ValueError(f"{path.name} is not in the execution cache {cache_dir}; run `make notebooks` first")
        edition, title = convert_notebook(read_notebook(path), config, bibliography,
                                          executed.get(path.name) if chapter else None, collapse_solutions=chapter)
        badge = config.colab_badge(path, target.parent.name)
        title.source = COLAB_BADGE.sub(lambda _, badge=badge: badge, title.source, count=1)
        if chapter:
            title.source += (f"\n\n*This is the Colab edition of the chapter, generated from the book's source; "
                             f"the book renders it at <{config.pages_url(path)}>.*")
        problems = [p for cell in edition.cells if cell.cell_type == "markdown" for p in myst_leftovers(cell.source)]
        if problems:
            raise ValueError(f"{path.name}: MyST left in the Colab edition: {problems[:3]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(edition, target)
        written.append(target)
    return written
