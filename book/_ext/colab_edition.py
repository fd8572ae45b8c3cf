"""Sphinx extension for this book: the Colab launch button opens the chapter's Colab edition.

sphinx-book-theme builds the button from ``repository.url`` and ``repository.branch``, which would
open the MyST source, where Colab shows raw directives and citation roles. The chapters' Colab
edition (``metalearn_lite.course.colab``) lives on its own branch; this handler, run after the
theme's, points the button there, at the same address as the chapter's "Open in Colab" badge
(``BookConfig.colab_url``). ``tests/test_book_browser.py`` checks the two agree. Enabled by
``sphinx.local_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

from pathlib import Path


def _retarget_buttons(buttons, source: str, edition: str) -> None:
    for button in buttons or []:
        if isinstance(button, dict):
            if isinstance(button.get("url"), str) and button["url"].startswith(source):
                button["url"] = edition + button["url"][len(source):]
            _retarget_buttons(button.get("buttons"), source, edition)


def _colab_edition(app, pagename, templatename, context, doctree) -> None:
    from metalearn_lite.course.config import BookConfig

    config = BookConfig.load(Path(app.srcdir))
    base = f"https://colab.research.google.com/github/{config.owner_repo}/blob/"
    _retarget_buttons(context.get("header_buttons"), f"{base}{config.branch}/", f"{base}{config.colab_branch}/")


def setup(app):
    app.connect("html-page-context", _colab_edition, priority=600)  # after the theme's launch buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
