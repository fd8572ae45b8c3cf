"""Data for the book: task families and few-shot episodes.

``sinusoid`` (MAML's regression family), ``omniglot`` (real handwritten characters), ``episodes``
(N-way K-shot sampling), ``augment`` (random affine distortions of images).
"""

from . import augment, episodes, omniglot, sinusoid
from .episodes import EpisodeSampler, sample_episode

__all__ = ["EpisodeSampler", "augment", "episodes", "omniglot", "sample_episode", "sinusoid"]
