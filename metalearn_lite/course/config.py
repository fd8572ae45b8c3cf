"""The book's repository, read from ``_config.yml``, and what is derived from it.

One place names the repository: ``repository.url`` and ``repository.branch`` in ``_config.yml``.
Each notebook's "Open in Colab" badge and its Colab install cell are *functions* of that pair,
defined here, so a test can check that every notebook agrees and a fork can rewrite them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BookConfig", "COLAB_BADGE", "COLAB_BADGE_IMAGE", "SETUP_CELL_TAG"]

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# Any "Open in Colab" badge, whatever repository, branch or path it points at (what retarget rewrites).
COLAB_BADGE = re.compile(
    r"\[!\[Open In Colab\]\(" + re.escape(COLAB_BADGE_IMAGE) + r"\)\]"
    r"\(https://colab\.research\.google\.com/github/[^)\s]+\)"
)
SETUP_CELL_TAG = "remove-cell"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class BookConfig:
    """Where the book's sources live: a GitHub repository URL, a branch, the book's folder in it."""

    repo_url: str
    branch: str = "main"
    path_to_book: str = ""

    def __post_init__(self) -> None:
        if not _GITHUB.match(self.repo_url):
            raise ValueError(
                f"repo_url must look like https://github.com/OWNER/REPO (Colab opens GitHub "
                f"notebooks only), got {self.repo_url!r}"
            )
        if not self.branch or any(c.isspace() for c in self.branch):
            raise ValueError(f"branch must be a non-empty name without spaces, got {self.branch!r}")

    @classmethod
    def load(cls, root: str | Path = ".") -> BookConfig:
        """Read ``_config.yml`` in the folder ``root``."""
        import yaml

        path = Path(root) / "_config.yml"
        with open(path, encoding="utf-8") as f:
            repository = (yaml.safe_load(f) or {}).get("repository") or {}
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

    def colab_url(self, notebook: str | Path, folder: str = "notebooks") -> str:
        """The Colab address that opens ``notebook`` from the configured repository and branch."""
        return (
            f"https://colab.research.google.com/github/{self.owner_repo}/blob/{self.branch}/"
            f"{self.notebook_path(notebook, folder)}"
        )

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
