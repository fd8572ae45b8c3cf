"""Data for the book: task families and few-shot episodes.

``sinusoid`` (MAML's regression family), ``omniglot`` (real handwritten characters), ``episodes``
(N-way K-shot sampling), ``augment`` (random affine distortions of images), ``ratings`` (synthetic
users and items for cold-start recommendation), ``sequences`` (episodes as sequences with offset
labels), ``copy_task`` (the NTM copy task), ``stories`` (bAbI-style stories).
"""

from . import augment, copy_task, episodes, omniglot, ratings, sequences, sinusoid, stories
from .episodes import EpisodeSampler, sample_episode
from .sequences import SequenceEpisodeSampler

__all__ = [
    "EpisodeSampler",
    "SequenceEpisodeSampler",
    "augment",
    "copy_task",
    "episodes",
    "omniglot",
    "ratings",
    "sample_episode",
    "sequences",
    "sinusoid",
    "stories",
]
