"""Sphinx extension for this book: each page loads each script once.

With the Jupyter Book 1 stack (Sphinx 7.4, sphinx-thebe 0.3.1, sphinx-togglebutton 0.4.5) every
page got the inline scripts of sphinx-thebe and sphinx-togglebutton twice, and the second
``const THEBE_JS_URL = ...`` is a JavaScript error ("Identifier 'THEBE_JS_URL' has already been
declared") in every reader's browser. tests/test_book_browser.py found it and checks that no page
raises a JavaScript error. Enabled by ``sphinx.local_extensions`` in ``_config.yml``.
"""

from __future__ import annotations


def _scripts_once(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (getattr(script, "filename", None) or "", attributes)  # the two copies: None and ''
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _scripts_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
