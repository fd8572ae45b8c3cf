"""The book's repository, read from ``_config.yml``, and what is derived from it.

One place names the repository: ``repository.url`` and ``repository.branch`` in ``_config.yml``.
Each notebook's "Open in Colab" badge and its Colab install cell are *functions* of that pair,
defined here, so a test can check that every notebook agrees and a fork can rewrite them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BookConfig", "COLAB_BADGE", "COLAB_BADGE_IMAGE", "SETUP_CELL_TAG", "branch_problem", "read_notebook"]

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# Any "Open in Colab" badge, whatever repository, branch or path it points at (what retarget rewrites).
COLAB_BADGE = re.compile(
    r"\[!\[Open In Colab\]\(" + re.escape(COLAB_BADGE_IMAGE) + r"\)\]"
    r"\(https://colab\.research\.google\.com/github/[^)\s]+\)"
)
SETUP_CELL_TAG = "remove-cell"
# GitHub's rules: an owner is 1-39 letters, digits or single inner hyphens; a repository name is
# letters, digits, '.', '-' and '_', and not '.' or '..'.
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38})/"
                     r"(?P<repo>[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$")


def branch_problem(branch: str) -> str | None:
    """Why ``branch`` is not a usable branch or tag name, or None.

    git's own rules (``git check-ref-format``: no ``..``, no ``@{``, no control characters, space,
    ``~ ^ : ? * [ \\``, no component starting with ``.`` or ending with ``.lock``, no leading,
    trailing or double ``/``, not ``@``), plus the characters that would break the Colab URL or
    the quoted ``pip install`` line it is written into (``#``, quotes).
    """
    if not branch:
        return "it is empty"
    if any(ord(c) < 32 or ord(c) == 127 or c in " ~^:?*[\\#'\"" for c in branch):
        return "it contains a space, a control character or one of ~ ^ : ? * [ \\ # ' \""
    if ".." in branch or "@{" in branch or branch == "@":
        return "it contains '..' or '@{', or is '@'"
    parts = branch.split("/")
    if any(not p or p.startswith(".") or p.endswith(".lock") for p in parts) or branch.endswith("."):
        return "a '/'-separated part is empty, starts with '.', or ends with '.lock', or the name ends with '.'"
    return None


def read_notebook(path: str | Path):
    """``nbformat.read`` of a notebook, with ``ValueError`` naming the file when it is not one."""
    import json

    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.ValidationError, KeyError, AttributeError, TypeError) as error:
        raise ValueError(f"{path} is not a readable Jupyter notebook ({type(error).__name__}: {error})") from error


@dataclass(frozen=True)
class BookConfig:
    """Where the book's sources live: a GitHub repository URL, a branch, the book's folder in it."""

    repo_url: str
    branch: str = "main"
    path_to_book: str = ""

    def __post_init__(self) -> None:
        match = _GITHUB.match(self.repo_url)
        if not match or match["repo"] in (".", ".."):
            raise ValueError(
                f"repo_url must look like https://github.com/OWNER/REPO with GitHub's owner and repository "
                f"name rules (Colab opens GitHub notebooks only), got {self.repo_url!r}"
            )
        if problem := branch_problem(self.branch):
            raise ValueError(f"branch {self.branch!r} is not a valid branch or tag name: {problem}")

    @classmethod
    def load(cls, root: str | Path = ".") -> BookConfig:
        """Read ``_config.yml`` in the folder ``root``."""
        import yaml

        path = Path(root) / "_config.yml"
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
        except yaml.YAMLError as error:
            problem = str(error).replace("\n", " ")
            raise ValueError(f"{path} is not valid YAML: {problem}") from error
        if not isinstance(data, dict):
            raise ValueError(f"{path} must hold a YAML mapping, got {type(data).__name__}")
        repository = data.get("repository") or {}
        if "url" not in repository:
            raise ValueError(f"{path} has no repository.url")
        return cls(
            str(repository["url"]).rstrip("/"),
            str(repository.get("branch", "main")),
            str(repository.get("path_to_book") or "").strip("/"),
        )

    @property
    def owner_repo(self) -> str:
        """``OWNER/REPO``."""
        m = _GITHUB.match(self.repo_url)
        return f"{m['owner']}/{m['repo']}"

    def notebook_path(self, notebook: str | Path, folder: str = "notebooks") -> str:
        """The notebook's path in the repository, e.g. ``notebooks/01_introduction.ipynb``.

        ``folder`` is the notebook's folder relative to the book's root (student versions that an
        instructor commits elsewhere, say ``students``, use it).
        """
        name = Path(notebook).name
        return "/".join(p for p in (self.path_to_book, folder.strip("/"), name) if p)

    @property
    def colab_branch(self) -> str:
        """The branch that holds the Colab edition of the chapters (:mod:`.colab`): ``colab-<branch>``."""
        return f"colab-{self.branch}"

    def colab_url(self, notebook: str | Path, folder: str = "notebooks") -> str:
        """The Colab address that opens ``notebook``: the Colab edition (on :attr:`colab_branch`) for the
        book's ``notebooks`` and the instructor's ``students``, the configured branch for other folders."""
        branch = self.colab_branch if folder.strip("/") in ("notebooks", "students") else self.branch
        return (
            f"https://colab.research.google.com/github/{self.owner_repo}/blob/{branch}/"
            f"{self.notebook_path(notebook, folder)}"
        )

    def pages_url(self, notebook: str | Path) -> str:
        """Where GitHub Pages serves the book's rendering of the chapter ``notebook``."""
        owner, repo = self.owner_repo.split("/")
        page = "/".join(p for p in (self.path_to_book, "notebooks", Path(notebook).stem + ".html") if p)
        return f"https://{owner.lower()}.github.io/{repo}/{page}"

    def colab_badge(self, notebook: str | Path, folder: str = "notebooks") -> str:
        """The Markdown "Open in Colab" badge for ``notebook``."""
        return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({self.colab_url(notebook, folder)})"

    @property
    def pip_requirement(self) -> str:
        """What Colab installs: the package from the configured repository and branch."""
        return f"metalearn-lite @ git+https://github.com/{self.owner_repo}.git@{self.branch}"

    def setup_cell(self) -> str:
        """The source of every notebook's second cell (tagged ``remove-cell``)."""
        return (
            "# Colab only: install metalearn-lite from the book's repository. Elsewhere nothing happens.\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules:\n'
            "    try:\n"
            "        import metalearn_lite  # noqa: F401\n"
            "    except ImportError:\n"
            f'        %pip install --quiet "{self.pip_requirement}"'
        )
