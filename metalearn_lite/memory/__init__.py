"""Memory-augmented networks (chapter 3.2, ``notebooks/04_memory_augmented.ipynb``).

``addressing`` (NTM and LRU memory access as pure functions), ``ntm`` (Neural Turing Machine),
``mann`` (memory-augmented network with least-recently-used access), ``memn2n`` (end-to-end memory
networks), ``lstm`` (the memory-less baseline) and ``training`` (the loops that train them).
"""

from . import addressing, lstm, mann, memn2n, ntm, training
from .lstm import SequenceLSTM
from .mann import MANN, MANNState, MANNTrace
from .memn2n import MemN2N, position_encoding
from .ntm import NTM, NTMState, NTMTrace
from .training import (
    copy_errors,
    evaluate_episodes_per_instance,
    story_accuracy,
    train_copy,
    train_episodes,
    train_memn2n,
)

__all__ = [
    "MANN",
    "MANNState",
    "MANNTrace",
    "MemN2N",
    "NTM",
    "NTMState",
    "NTMTrace",
    "SequenceLSTM",
    "addressing",
    "copy_errors",
    "evaluate_episodes_per_instance",
    "lstm",
    "mann",
    "memn2n",
    "ntm",
    "position_encoding",
    "story_accuracy",
    "train_copy",
    "train_episodes",
    "train_memn2n",
    "training",
]
