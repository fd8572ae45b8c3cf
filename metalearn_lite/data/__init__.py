"""Data for the book: task families and few-shot episodes.

``sinusoid`` (MAML's regression family), ``omniglot`` (real handwritten characters), ``download``
(finding or fetching data files, checked), ``episodes`` (N-way K-shot sampling), ``augment`` (random
affine distortions of images), ``ratings`` (synthetic users and items for cold-start
recommendation), ``sequences`` (episodes as sequences with offset labels), ``copy_task`` (the NTM
copy task), ``stories`` (bAbI-style stories), ``babi`` (the real bAbI files, read into the same
stories), ``optimizees`` (problems for a learned optimizer: quadratics, small networks).
Submodules load on first use. §1 (``notebooks/01_introduction.ipynb``) introduces tasks and episodes;
each chapter names the data it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .episodes import EpisodeSampler, sample_episode
from .sequences import SequenceEpisodeSampler

__all__ = [
    "EpisodeSampler", "SequenceEpisodeSampler", "augment", "babi", "copy_task", "download", "episodes", "omniglot",
    "optimizees", "ratings", "sample_episode", "sequences", "sinusoid", "stories",
]

if TYPE_CHECKING:
    from . import augment, babi, copy_task, download, omniglot, optimizees, ratings, sinusoid, stories


def __getattr__(name: str) -> Any:
    """Import a submodule on first use (PEP 562): PIL and urllib load only with ``omniglot``."""
    if name not in __all__:
        raise AttributeError(f"module 'metalearn_lite.data' has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
