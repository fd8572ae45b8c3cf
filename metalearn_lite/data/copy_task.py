"""The copy task of the Neural Turing Machine paper (Graves, Wayne & Danihelka, 2014, section 4.1).

The network sees a sequence of random binary vectors, then a delimiter, and must then output the
same sequence with no further input. Storing and recalling a sequence longer than any seen in
training tests whether a network has learned an *algorithm* (write one slot per step, then
walk back) rather than a fixed-size code. §3.2 (``notebooks/04_memory_augmented.ipynb``) trains an
NTM and an LSTM on it; :func:`~metalearn_lite.memory.evaluation.bit_errors` scores it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .. import checks

__all__ = ["CopyBatch", "copy_batch"]


class CopyBatch(NamedTuple):
    """Inputs and targets of the copy task for ``length`` vectors of ``n_bits`` bits.

    Shapes:
        inputs ``(B, 2 * length + 1, n_bits + 1)``: the vectors (last channel 0), the delimiter
        step (last channel 1, bits 0), then ``length`` all-zero steps;
        targets ``(B, length, n_bits)``: the vectors to reproduce during the last ``length`` steps.
    """

    inputs: Tensor
    targets: Tensor


def copy_batch(
    batch_size: int, length: int, n_bits: int = 8, generator: torch.Generator | None = None
) -> CopyBatch:
    """A batch of copy sequences of one length, bits drawn uniformly (the paper uses 8 bits)."""
    checks.positive_ints(batch_size=batch_size, length=length, n_bits=n_bits)
    checks.generator("generator", generator)
    bits = torch.randint(0, 2, (batch_size, length, n_bits), generator=generator).float()
    inputs = torch.zeros(batch_size, 2 * length + 1, n_bits + 1)
    inputs[:, :length, :n_bits] = bits
    inputs[:, length, n_bits] = 1.0
    return CopyBatch(inputs, bits)
