"""Memory-augmented meta-learning: networks that learn a new task by writing to an external memory.

``addressing`` (NTM and LRU memory access as pure functions), ``ntm`` (Neural Turing Machine),
``mann`` (memory-augmented network with least-recently-used access), ``memn2n`` (end-to-end memory
networks), ``lstm`` (the memory-less baseline), ``training`` (the loops that train them) and
``evaluation`` (wrong bits, accuracy per presentation, story accuracy). Taught in §3.2
(``notebooks/04_memory_augmented.ipynb``).
"""

from . import addressing
from .evaluation import bit_errors, copy_errors, evaluate_per_instance, per_instance_accuracy, story_accuracy
from .lstm import SequenceLSTM
from .mann import MANN, MANNState, MANNTrace
from .memn2n import MemN2N, position_encoding
from .ntm import NTM, NTMState, NTMTrace
from .training import train_copy, train_memn2n, train_sequence_model

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
    "bit_errors",
    "copy_errors",
    "evaluate_per_instance",
    "per_instance_accuracy",
    "position_encoding",
    "story_accuracy",
    "train_copy",
    "train_memn2n",
    "train_sequence_model",
]
