"""The Neural Turing Machine (Graves, Wayne & Danihelka, 2014): an LSTM with a tape it can address.

An LSTM controller reads the input and the previous read vector; from its hidden state, one
write head and one read head compute their weightings with the four addressing steps of
:mod:`~metalearn_lite.memory.addressing`, the write head erases and adds, the read head reads,
and the output layer sees the hidden state and the fresh read vector. Everything is
differentiable, so plain backpropagation through time trains controller and heads together.

The state is an immutable :class:`NTMState` created by :meth:`NTM.initial_state`; the module keeps
no hidden mutable state between calls. §3.2 (``notebooks/04_memory_augmented.ipynb``) trains it on
the copy task and plots where the heads look.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from . import addressing
from .unroll import unroll

__all__ = ["NTM", "NTMState", "NTMTrace"]


class NTMState(NamedTuple):
    """Everything an :class:`NTM` carries from one step to the next.

    Shapes:
        hidden, cell ``(B, hidden_size)``; memory ``(B, N, M)``;
        read_weights, write_weights ``(B, 1, N)``; read_vector ``(B, M)``.
    """

    hidden: Tensor
    cell: Tensor
    memory: Tensor
    read_weights: Tensor
    write_weights: Tensor
    read_vector: Tensor


class NTMTrace(NamedTuple):
    """A whole unrolled sequence, for plots.

    Shapes:
        logits ``(B, T, output_size)``; read_weights, write_weights ``(B, T, N)``.
    """

    logits: Tensor
    read_weights: Tensor
    write_weights: Tensor
    state: NTMState


class _HeadParams(NamedTuple):
    key: Tensor  # (B, 1, M)
    beta: Tensor  # (B, 1)
    gate: Tensor  # (B, 1)
    shift: Tensor  # (B, 1, S)
    gamma: Tensor  # (B, 1)


class NTM(nn.Module):
    """A Neural Turing Machine with an LSTM controller, one read head and one write head.

    Args:
        input_size: features per input step.
        output_size: logits per output step.
        hidden_size: LSTM units of the controller.
        memory_slots: N, the number of memory rows (the tape length).
        memory_width: M, the width of a row.
        shift_range: largest offset of a shift; the shift weighting covers
            ``-shift_range .. shift_range`` (the paper allows -1, 0, +1).

    Shapes:
        ``forward``: inputs ``(B, T, input_size)`` -> logits ``(B, T, output_size)``.
    """

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 100, memory_slots: int = 128,
                 memory_width: int = 20, shift_range: int = 1) -> None:
        super().__init__()
        checks.positive_ints(input_size=input_size, output_size=output_size, hidden_size=hidden_size,
                            memory_slots=memory_slots, memory_width=memory_width)
        if checks.non_negative_int("shift_range", shift_range) > (memory_slots - 1) // 2:
            raise ValueError(f"shift_range must be an int in 0 .. (memory_slots - 1) // 2, got {shift_range!r}")
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size, self.memory_slots, self.memory_width = hidden_size, memory_slots, memory_width
        self.shifts = 2 * shift_range + 1
        head = memory_width + self.shifts + 3  # key, shift, beta, gate, gamma
        self.controller = nn.LSTMCell(input_size + memory_width, hidden_size)
        self.read_head = nn.Linear(hidden_size, head)
        self.write_head = nn.Linear(hidden_size, head + 2 * memory_width)  # + erase, add
        self.output = nn.Linear(hidden_size + memory_width, output_size)

    def initial_state(self, batch_size: int) -> NTMState:
        """Empty controller, a memory of small constants, both heads on slot 0, a zero read."""
        checks.positive_int("batch_size", batch_size)
        like = self.output.weight
        zeros = like.new_zeros(batch_size, self.hidden_size)
        memory = like.new_full((batch_size, self.memory_slots, self.memory_width), 1e-6)
        focus = like.new_zeros(batch_size, 1, self.memory_slots)
        focus[:, :, 0] = 1.0
        read_vector = like.new_zeros(batch_size, self.memory_width)
        return NTMState(zeros, zeros.clone(), memory, focus, focus.clone(), read_vector)

    def _head_params(self, raw: Tensor) -> _HeadParams:
        """Map a head's raw outputs to valid addressing parameters (tanh, softplus, sigmoid...)."""
        m, s = self.memory_width, self.shifts
        key, shift, beta, gate, gamma = raw.split([m, s, 1, 1, 1], dim=-1)
        return _HeadParams(
            key=torch.tanh(key).unsqueeze(1),
            beta=F.softplus(beta),
            gate=torch.sigmoid(gate),
            shift=torch.softmax(shift, dim=-1).unsqueeze(1),
            gamma=1 + F.softplus(gamma),
        )

    def step(self, x: Tensor, state: NTMState) -> tuple[Tensor, NTMState]:
        """One time step: controller, write (erase + add), read, output.

        Shapes:
            x ``(B, input_size)`` -> logits ``(B, output_size)`` and the next state.
        """
        if x.dim() != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"x must have shape (B, {self.input_size}), got {tuple(x.shape)}")
        hidden, cell = self.controller(torch.cat([x, state.read_vector], dim=1), (state.hidden, state.cell))
        m = self.memory_width
        raw_write = self.write_head(hidden)
        head = self._head_params(raw_write[:, : -2 * m])
        erase = torch.sigmoid(raw_write[:, -2 * m : -m]).unsqueeze(1)  # (B, 1, M)
        add = torch.tanh(raw_write[:, -m:]).unsqueeze(1)
        w_write = addressing.address(state.memory, state.write_weights, *head)
        memory = addressing.write(state.memory, w_write, add, erase)
        head = self._head_params(self.read_head(hidden))
        w_read = addressing.address(memory, state.read_weights, *head)
        read_vector = addressing.read(memory, w_read).squeeze(1)  # (B, M)
        logits = self.output(torch.cat([hidden, read_vector], dim=1))
        return logits, NTMState(hidden, cell, memory, w_read, w_write, read_vector)

    def trace(self, inputs: Tensor, state: NTMState | None = None) -> NTMTrace:
        """Unroll over a sequence and keep the head weightings of every step.

        Shapes:
            inputs ``(B, T, input_size)`` -> :class:`NTMTrace`.
        """
        checks.sequences("inputs", inputs, self, self.input_size)
        state = self.initial_state(inputs.shape[0]) if state is None else state

        def step(x: Tensor, state: NTMState):
            out, state = self.step(x, state)
            return out, state.read_weights[:, 0], state.write_weights[:, 0], state

        return NTMTrace(*unroll(step, inputs, state))

    def forward(self, inputs: Tensor, state: NTMState | None = None) -> Tensor:
        """Logits of every step, ``(B, T, output_size)``; see :meth:`trace` for the weightings."""
        return self.trace(inputs, state).logits
