"""Data for the book: task families and few-shot episodes.

``sinusoid`` (MAML's regression family), ``omniglot`` (real handwritten characters), ``episodes``
(N-way K-shot sampling).
"""

from . import episodes, omniglot, sinusoid
from .episodes import EpisodeSampler, sample_episode

__all__ = ["EpisodeSampler", "episodes", "omniglot", "sample_episode", "sinusoid"]
