"""Memory-augmented neural network with least-recently-used access (Santoro et al., 2016).

MANN is a Neural Turing Machine stripped down for one-shot binding. Its LSTM controller emits,
per read head, a key ``k_t`` and a write gate ``alpha``. Each step

1. writes ``k_t`` with the weighting ``sigmoid(alpha) * w_r[t-1] + (1 - sigmoid(alpha)) * w_lu[t-1]``,
   either onto the slot read last step or onto a least-used slot, which is zeroed first
   (head ``h`` uses the ``h``-th least used slot, so heads do not write on top of each other);
2. reads with the same key by content (cosine similarity, softmax over slots);
3. updates the usage ``w_u = gamma * w_u + w_r + w_w`` and the least-used indicator;
4. classifies from the controller's hidden state and the read vectors.

There is no location-based addressing and no erase vector.

Two switches depart from the paper, both off by default: ``key_strength`` adds an NTM-style
``beta`` to sharpen reads, and ``write_key=False`` writes a separate value vector instead of the
key. A read happens after the write of the same step, so a written key is always its own best
match (cosine 1); a separate value removes that self-match, and in our CPU runs it learns the
one-shot binding in a fraction of the episodes. Trained across many episodes whose
labels are shuffled, it learns to store "this image had this label" in one slot and retrieve it
at the next presentation: the meta-learning is in the training across episodes, the fast
learning inside an episode is memory writes. See §3.2 (``notebooks/04_memory_augmented.ipynb``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from . import addressing
from .unroll import unroll

__all__ = ["MANN", "MANNState", "MANNTrace"]


class MANNState(NamedTuple):
    """What a :class:`MANN` carries between steps.

    Shapes:
        hidden, cell ``(B, hidden_size)``; memory ``(B, N, M)``; read_weights ``(B, R, N)``;
        usage ``(B, N)``; least_used ``(B, R, N)`` (one-hot: head h's h-th least used slot);
        read_vectors ``(B, R * M)``.
    """

    hidden: Tensor
    cell: Tensor
    memory: Tensor
    read_weights: Tensor
    usage: Tensor
    least_used: Tensor
    read_vectors: Tensor


class MANNTrace(NamedTuple):
    """A whole unrolled episode, for plots.

    Shapes:
        logits ``(B, T, output_size)``; read_weights, write_weights ``(B, T, R, N)``.
    """

    logits: Tensor
    read_weights: Tensor
    write_weights: Tensor
    state: MANNState


class MANN(nn.Module):
    """MANN with an LSTM controller and least-recently-used memory access.

    Args:
        input_size: features per step (the image and the previous step's one-hot label).
        output_size: classes per episode.
        hidden_size: LSTM units (paper: 200).
        memory_slots: N (paper: 128).
        memory_width: M (paper: 40).
        num_reads: read heads R (paper: 4); each also writes its key.
        gamma: usage decay (paper: 0.95).
        key_strength: also emit a key strength ``beta >= 1`` per head that sharpens the read softmax
            (an NTM ingredient the paper leaves out).
        write_key: write the key ``k_t`` (the paper); ``False`` writes a separate value vector
            ``a_t`` emitted beside the key, as an NTM's add vector.
        memory_reads: ``False`` zeroes every read vector, the memory-off ablation: the same network,
            parameters and training, but nothing written to the memory reaches the controller or
            the output, so whatever it learns is the LSTM controller's alone.

    Shapes:
        ``forward``: inputs ``(B, T, input_size)`` -> logits ``(B, T, output_size)``.
    """

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 200, memory_slots: int = 128,
                 memory_width: int = 40, num_reads: int = 4, gamma: float = 0.95, key_strength: bool = False,
                 write_key: bool = True, memory_reads: bool = True) -> None:
        super().__init__()
        checks.boolean("key_strength", key_strength)
        checks.boolean("write_key", write_key)
        checks.boolean("memory_reads", memory_reads)
        checks.positive_ints(input_size=input_size, output_size=output_size, hidden_size=hidden_size,
                            memory_slots=memory_slots, memory_width=memory_width, num_reads=num_reads)
        if num_reads > memory_slots:
            raise ValueError(f"num_reads={num_reads} must not exceed memory_slots={memory_slots}")
        checks.probability("gamma", gamma)
        self.input_size, self.output_size, self.hidden_size = input_size, output_size, hidden_size
        self.memory_slots, self.memory_width, self.num_reads = memory_slots, memory_width, num_reads
        self.gamma, self.key_strength, self.write_key = gamma, key_strength, write_key
        self.memory_reads = memory_reads
        reads = num_reads * memory_width
        # The LSTM's input-to-hidden product does not depend on the state: computed for all steps at once.
        self.input_gates = nn.Linear(input_size, 4 * hidden_size)
        self.recurrent_gates = nn.Linear(hidden_size + reads, 4 * hidden_size, bias=False)
        per_head = memory_width * (1 if write_key else 2) + 1 + int(key_strength)  # key, [value], alpha, [beta]
        self.heads = nn.Linear(hidden_size, num_reads * per_head)
        self.output = nn.Linear(hidden_size + reads, output_size)

    def initial_state(self, batch_size: int) -> MANNState:
        """Zero controller, a memory of small constants, reads on slot 0, no usage yet."""
        checks.positive_int("batch_size", batch_size)
        like = self.output.weight
        n, r = self.memory_slots, self.num_reads
        zeros = like.new_zeros(batch_size, self.hidden_size)
        read_weights = like.new_zeros(batch_size, r, n)
        read_weights[:, :, 0] = 1.0
        usage = like.new_zeros(batch_size, n)
        return MANNState(
            hidden=zeros,
            cell=zeros.clone(),
            memory=like.new_full((batch_size, n, self.memory_width), 1e-6),
            read_weights=read_weights,
            usage=usage,
            least_used=addressing.least_used_per_head(usage, r),
            read_vectors=like.new_zeros(batch_size, r * self.memory_width),
        )

    def _step(self, input_gates: Tensor, state: MANNState) -> tuple[Tensor, Tensor, MANNState]:
        gates = input_gates + self.recurrent_gates(torch.cat([state.hidden, state.read_vectors], dim=1))
        i, f, g, o = gates.chunk(4, dim=1)
        cell = torch.sigmoid(f) * state.cell + torch.sigmoid(i) * torch.tanh(g)
        hidden = torch.sigmoid(o) * torch.tanh(cell)

        batch, r, m = hidden.shape[0], self.num_reads, self.memory_width
        raw = self.heads(hidden).view(batch, r, -1)
        key, alpha = torch.tanh(raw[..., :m]), raw[..., m]  # (B, R, M), (B, R)
        beta = F.softplus(raw[..., m + 1]) + 1 if self.key_strength else torch.ones_like(alpha)
        value = key if self.write_key else torch.tanh(raw[..., -m:])

        w_write = addressing.lru_write_weighting(state.read_weights, state.least_used, alpha)
        memory = state.memory * (1 - state.least_used.sum(dim=1)).unsqueeze(-1)  # clear the least-used slots
        memory = addressing.write(memory, w_write, value)
        w_read = addressing.content_weighting(memory, key, beta)
        read_vectors = addressing.read(memory, w_read).reshape(batch, r * m)
        if not self.memory_reads:  # the ablation: the memory is written and addressed, but never heard from
            read_vectors = torch.zeros_like(read_vectors)
        usage = addressing.update_usage(state.usage, w_read, w_write, self.gamma)
        least_used = addressing.least_used_per_head(usage, r)
        logits = self.output(torch.cat([hidden, read_vectors], dim=1))
        return logits, w_write, MANNState(hidden, cell, memory, w_read, usage, least_used, read_vectors)

    def trace(self, inputs: Tensor, state: MANNState | None = None) -> MANNTrace:
        """Unroll over episodes and keep every step's read and write weightings.

        Shapes:
            inputs ``(B, T, input_size)`` -> :class:`MANNTrace`.
        """
        checks.sequences("inputs", inputs, self, self.input_size)
        state = self.initial_state(inputs.shape[0]) if state is None else state

        def step(gates: Tensor, state: MANNState):
            out, w_write, state = self._step(gates, state)
            return out, state.read_weights, w_write, state

        return MANNTrace(*unroll(step, self.input_gates(inputs), state))

    def forward(self, inputs: Tensor, state: MANNState | None = None) -> Tensor:
        """Logits of every step, ``(B, T, output_size)``."""
        return self.trace(inputs, state).logits
