"""Data for the book: task families and few-shot episodes.

``sinusoid`` (MAML's regression family), ``omniglot`` (real handwritten characters), ``episodes``
(N-way K-shot sampling), ``augment`` (random affine distortions of images), ``ratings`` (synthetic
users and items for cold-start recommendation).
"""

from . import augment, episodes, omniglot, ratings, sinusoid
from .episodes import EpisodeSampler, sample_episode

__all__ = ["EpisodeSampler", "augment", "episodes", "omniglot", "ratings", "sample_episode", "sinusoid"]
