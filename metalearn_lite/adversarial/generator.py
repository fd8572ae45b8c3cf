"""MetaGAN's task-conditioned generator: fakes for a task from noise and a summary of its support set.

Taught in §3.4 (``notebooks/06_adversarial.ipynb``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import checks
from ..nets import MLP

__all__ = ["TaskConditionedGenerator"]


class TaskConditionedGenerator(nn.Module):
    """Makes samples for a task from noise and a summary of the task's support set.

    ``h = mean_i encoder(x_i)`` over the support examples, then ``x_fake = decoder([z, h])`` with
    ``z ~ N(0, I)``. Averaging makes ``h`` independent of the order and number of support examples.

    Args:
        n_features: size of one example (2 for points in the plane).
        noise_dim: size of ``z``.
        hidden: width of the encoder's and decoder's hidden layers and of ``h``.

    Shapes:
        x_support: ``(n_support, n_features)`` -> ``(num_samples, n_features)``.
    """

    def __init__(self, n_features: int, noise_dim: int = 8, hidden: int = 64) -> None:
        super().__init__()
        checks.positive_ints(n_features=n_features, noise_dim=noise_dim, hidden=hidden)
        self.n_features, self.noise_dim = n_features, noise_dim
        self.encoder = MLP(n_features, (hidden,), hidden)
        self.decoder = MLP(noise_dim + hidden, (hidden, hidden), n_features)

    def forward(self, x_support: Tensor, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
        if not isinstance(x_support, Tensor) or x_support.dim() != 2 or x_support.shape[1] != self.n_features:
            shape = tuple(x_support.shape) if isinstance(x_support, Tensor) else type(x_support).__name__
            raise ValueError(f"x_support must be (n_support, {self.n_features}), got {shape}")
        if x_support.shape[0] == 0:
            raise ValueError("x_support must hold at least one example, got none")
        checks.positive_int("num_samples", num_samples)
        checks.generator("generator", generator)
        device = generator.device if generator is not None else x_support.device
        z = torch.randn(num_samples, self.noise_dim, generator=generator, device=device, dtype=x_support.dtype)
        task = self.encoder(x_support).mean(dim=0)  # (hidden,)
        return self.decoder(torch.cat([z.to(x_support.device), task.expand(num_samples, -1)], dim=1))
