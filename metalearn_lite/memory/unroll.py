"""Unrolling a memory-augmented controller over a sequence while keeping what its heads read and wrote,
for the NTM and MANN of §3.2 (``notebooks/04_memory_augmented.ipynb``), whose figures plot them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = ["unroll"]


def unroll(step: Callable[[Tensor, Any], tuple[Tensor, Tensor, Tensor, Any]], inputs: Tensor,
           state: Any) -> tuple[Tensor, Tensor, Tensor, Any]:
    """Run ``step(x_t, state) -> (logits_t, read_t, write_t, state)`` over the time steps of ``inputs``.

    Shapes:
        inputs ``(B, T, ...)``; returns logits ``(B, T, ...)``, the read and write weightings stacked
        on dimension 1 likewise, and the final state.
    """
    logits, reads, writes = [], [], []
    for x in inputs.unbind(dim=1):
        out, read, write, state = step(x, state)
        logits.append(out)
        reads.append(read)
        writes.append(write)
    return torch.stack(logits, 1), torch.stack(reads, 1), torch.stack(writes, 1), state
