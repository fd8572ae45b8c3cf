"""An LSTM sequence model: the memory-less baseline of §3.2 (``notebooks/04_memory_augmented.ipynb``).

Graves et al. (2014) and Santoro et al. (2016) both compare their memory-augmented networks
with an LSTM of similar size; so does the chapter, on the copy task and on Omniglot episodes.
The LSTM stores everything in its hidden state, whose size fixes how much it can remember.
"""

from __future__ import annotations

from torch import Tensor, nn

from .. import checks

__all__ = ["SequenceLSTM"]


class SequenceLSTM(nn.Module):
    """A (stacked) LSTM followed by a linear read-out at every step.

    Args:
        input_size: features per step.
        output_size: logits per step.
        hidden_size: units per layer.
        num_layers: stacked layers.

    Shapes:
        ``forward``: inputs ``(B, T, input_size)`` -> logits ``(B, T, output_size)``.
    """

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 100, num_layers: int = 1) -> None:
        super().__init__()
        checks.positive_ints(input_size=input_size, output_size=output_size, hidden_size=hidden_size,
                             num_layers=num_layers)
        self.input_size = input_size
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, inputs: Tensor) -> Tensor:
        checks.sequences("inputs", inputs, self, self.input_size)
        hidden, _ = self.lstm(inputs)
        return self.output(hidden)
