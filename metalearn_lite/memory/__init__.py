"""Memory-augmented networks (chapter 3.2): addressing, NTM, LSTM baseline."""

from . import addressing, lstm, ntm
from .lstm import SequenceLSTM
from .ntm import NTM, NTMState, NTMTrace

__all__ = ["NTM", "NTMState", "NTMTrace", "SequenceLSTM", "addressing", "lstm", "ntm"]
