"""What the notebooks need to be a book: numbers in the prose that come from the run.

A chapter never types a measured number into its text. It computes the number in a code cell and
hands it to :func:`glue`; the Markdown then refers to it by name with MyST-NB's role,
``{glue:text}`maml_mse:.2f```, so the rendered sentence changes when the result does. In the book
(built with MyST-NB) the value appears inline; in Colab or plain Jupyter, where MyST-NB is not
installed, :func:`glue` prints ``name = value`` under the cell instead, so the reader still sees
every number the text refers to. MyST-NB is not a dependency of the package. Every chapter uses it,
starting with §1 (``notebooks/01_introduction.ipynb``).
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["glue", "plain"]


def plain(value: Any) -> Any:
    """``value`` as a plain Python number when it is a one-element tensor or a NumPy scalar.

    MyST-NB formats a glued value from its ``repr``: ``0.5`` can be formatted with ``:.1%``,
    ``tensor(0.5000)`` cannot.
    """
    if hasattr(value, "numel") and hasattr(value, "item") and value.numel() == 1:
        value = value.item()
    elif hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def glue(name: str, value: Any) -> Any:
    """Make ``value`` available to the chapter's Markdown as ``{glue:text}`name``` (or with a format,
    ``{glue:text}`name:.1f```), and return it.

    Raises:
        ValueError: ``name`` is not a valid identifier (MyST-NB keys are referred to by name).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier, got {name!r}")
    value = plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab, plain Jupyter: show the number where the text would show it
        print(f"{name} = {value}")
    else:
        myst_glue(name, value, display=False)
    return value
