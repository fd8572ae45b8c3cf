"""Point a fork of the book at its own repository: ``_config.yml``, Colab badges, install cells.

``python -m metalearn_lite.course retarget https://github.com/ME/metalearn-lite --branch fall-2027``

1. rewrites ``repository.url`` (and ``branch``) in ``_config.yml`` *as text*, so its comments and
   layout survive;
2. sets every notebook's (and every committed student version's, in ``students/``) "Open in Colab"
   badge and Colab setup cell to what
   :class:`~metalearn_lite.course.config.BookConfig` derives from the new pair (the one place
   where that derivation lives).

Nothing is written until every file has been checked, and a second run changes nothing. Other
mentions of the old repository (README, ``pyproject.toml``, ``CITATION.cff``) are listed, not
rewritten: the citation and the package's home stay the original's unless the fork decides.
Taught in ``book/for-instructors.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .config import COLAB_BADGE, SETUP_CELL_TAG, BookConfig, read_notebook

__all__ = ["RetargetResult", "retarget", "set_repository"]

_MENTION_FILES = ("README.md", "pyproject.toml", "CITATION.cff", "book/*.md")


def _set_key(block: list[str], key: str, value: str) -> bool:
    """Set ``key: value`` among the indented lines of a YAML mapping block, keeping comments."""
    pattern = re.compile(rf"^(?P<indent>\s+){key}:(?P<value>[^#\n]*?)(?P<comment>\s+#.*)?$")
    for i, line in enumerate(block):
        if m := pattern.match(line):
            block[i] = f"{m['indent']}{key}: {value}{m['comment'] or ''}"
            return True
    return False


def set_repository(text: str, repo_url: str, branch: str) -> str:
    """``_config.yml``'s text with ``repository.url`` and ``repository.branch`` set.

    Raises:
        ValueError: when the text has no ``repository:`` mapping with a ``url:`` key.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^repository:\s*(#.*)?$", line)), None)
    if start is None:
        raise ValueError("_config.yml has no top-level 'repository:' mapping")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # trailing blank lines belong to what follows
    block = lines[start + 1 : end]
    if not _set_key(block, "url", repo_url):
        raise ValueError("_config.yml's repository mapping has no 'url:' key")
    if not _set_key(block, "branch", branch):
        url_line = next(i for i, line in enumerate(block) if line.lstrip().startswith("url:"))
        indent = block[url_line][: len(block[url_line]) - len(block[url_line].lstrip())]
        block.insert(url_line + 1, f"{indent}branch: {branch}")
    new = lines[: start + 1] + block + lines[end:]
    return "\n".join(new) + ("\n" if text.endswith("\n") else "")


@dataclass
class RetargetResult:
    """What a retarget did: the new configuration, the files it changed, and files left alone."""

    config: BookConfig
    changed: list[Path] = field(default_factory=list)
    other_mentions: list[Path] = field(default_factory=list)  # still name the old repository


def retarget(root: str | Path, repo_url: str, branch: str | None = None) -> RetargetResult:
    """Point the book in ``root`` at ``repo_url`` (and ``branch``; unchanged when None).

    Raises:
        ValueError: for a URL or branch that Colab cannot open, or a notebook without the Colab
            badge in its first cell or the setup cell as its second (nothing is written then).
    """
    import nbformat
    import yaml

    root = Path(root)
    config_path = root / "_config.yml"
    if not config_path.is_file():
        raise ValueError(f"no _config.yml in {str(root)!r}: run from the book's root folder or pass --root")
    old = BookConfig.load(root)
    new = BookConfig(repo_url.rstrip("/"), branch or old.branch, old.path_to_book)  # validates both
    text = config_path.read_text(encoding="utf-8")
    new_text = set_repository(text, new.repo_url, new.branch)
    parsed = (yaml.safe_load(new_text) or {}).get("repository", {})
    if (str(parsed.get("url")), str(parsed.get("branch"))) != (new.repo_url, new.branch):
        raise ValueError(f"could not rewrite _config.yml's repository safely (it would read {parsed})")

    updates: dict[Path, str] = {}
    problems: list[str] = []
    if new_text != text:
        updates[config_path] = new_text
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = read_notebook(path)
        before = nbformat.writes(nb)
        title, setup = nb.cells[0], nb.cells[1] if len(nb.cells) > 1 else None
        if title.cell_type != "markdown" or not COLAB_BADGE.search(title.source):
            problems.append(f"{path.name}: cell 1 has no 'Open In Colab' badge to rewrite")
        else:
            title.source = COLAB_BADGE.sub(lambda _, p=path: new.colab_badge(p), title.source)
        if setup is None or setup.cell_type != "code" or SETUP_CELL_TAG not in setup.metadata.get("tags", []):
            problems.append(f"{path.name}: cell 2 is not the Colab setup cell (tag {SETUP_CELL_TAG!r})")
        else:
            setup.source = new.setup_cell()
        after = nbformat.writes(nb)
        if after != before:
            updates[path] = after if after.endswith("\n") else after + "\n"  # as nbformat.write does
    for path in sorted((root / "students").glob("*.ipynb")):  # committed student versions, if any
        nb = read_notebook(path)
        before = nbformat.writes(nb)
        for cell in nb.cells[:2]:
            if cell.cell_type == "markdown":
                cell.source = COLAB_BADGE.sub(lambda _, p=path: new.colab_badge(p, "students"), cell.source)
            elif SETUP_CELL_TAG in cell.metadata.get("tags", []):
                cell.source = new.setup_cell()
        after = nbformat.writes(nb)
        if after != before:
            updates[path] = after if after.endswith("\n") else after + "\n"
    if problems:
        raise ValueError("nothing was changed:\n  " + "\n  ".join(problems))
    for path, content in updates.items():
        path.write_text(content, encoding="utf-8")

    result = RetargetResult(new, sorted(updates))
    if old.owner_repo != new.owner_repo:
        for pattern in _MENTION_FILES:
            for path in sorted(root.glob(pattern)):
                if old.owner_repo in path.read_text(encoding="utf-8"):
                    result.other_mentions.append(path)
    return result
