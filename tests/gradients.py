"""Shared by the gradient tests: the meta-gradient by autograd and by central finite differences.

Used with float64 models and tiny shapes, where central differences with ``eps = 1e-6`` are
accurate to about 1e-9.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def meta_grads(learner: nn.Module, tasks) -> list[Tensor]:
    """Autograd's gradient of ``learner.meta_loss(tasks)`` for every parameter of ``learner``."""
    return list(torch.autograd.grad(learner.meta_loss(tasks), list(learner.parameters())))


def finite_differences(learner: nn.Module, tasks, eps: float = 1e-6) -> list[Tensor]:
    """Central differences of the meta-loss value with respect to every meta-parameter element."""
    out = []
    for p in learner.parameters():
        g = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += eps
                up = learner.meta_loss(tasks).item()
                p.view(-1)[i] -= 2 * eps
                down = learner.meta_loss(tasks).item()
                p.view(-1)[i] += eps
            g.view(-1)[i] = (up - down) / (2 * eps)
        out.append(g)
    return out


def max_diff(a: list[Tensor], b: list[Tensor]) -> float:
    """Largest absolute elementwise difference between two lists of same-shaped tensors."""
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))
