"""The sinusoid regression family of the MAML paper (Finn et al., 2017, section 5.1).

Each task is ``y = A * sin(x - phi)`` with amplitude ``A ~ U[0.1, 5.0]``, phase
``phi ~ U[0, pi]`` and inputs ``x ~ U[-5, 5]``; a learner sees ``K`` support points and is judged
on ``K`` query points of the same function. Chapters 1, 2, 3.3 and 4.1 use it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..tasks import Task

__all__ = [
    "AMPLITUDE_RANGE",
    "PHASE_RANGE",
    "X_RANGE",
    "sample_functions",
    "evaluate",
    "tasks_from_functions",
    "sample_tasks",
]

AMPLITUDE_RANGE = (0.1, 5.0)
PHASE_RANGE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)


def _uniform(n: int, low: float, high: float, generator, dtype) -> Tensor:
    return torch.rand(n, generator=generator, dtype=dtype) * (high - low) + low


def sample_functions(
    num_tasks: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor]:
    """Draw ``num_tasks`` sinusoids.

    Returns:
        ``(amplitude, phase)``, each of shape ``(num_tasks,)``.
    """
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
    amplitude = _uniform(num_tasks, *AMPLITUDE_RANGE, generator, dtype)
    phase = _uniform(num_tasks, *PHASE_RANGE, generator, dtype)
    return amplitude, phase


def evaluate(amplitude: Tensor, phase: Tensor, x: Tensor) -> Tensor:
    """``A * sin(x - phi)`` for each task.

    Shapes:
        amplitude, phase: ``(T,)``; x: ``(T, n, 1)`` -> ``(T, n, 1)``.
    """
    return amplitude.view(-1, 1, 1) * torch.sin(x - phase.view(-1, 1, 1))


def tasks_from_functions(
    amplitude: Tensor,
    phase: Tensor,
    k_support: int,
    k_query: int | None = None,
    generator: torch.Generator | None = None,
) -> list[Task]:
    """Sample support and query points for given sinusoids.

    Args:
        amplitude, phase: ``(T,)`` tensors from :func:`sample_functions`.
        k_support: points in each support set (the paper's ``K``).
        k_query: points in each query set (default: ``k_support``, as in the paper).

    Returns:
        ``T`` tasks with ``x_support``, ``y_support`` of shape ``(k_support, 1)`` and
        ``x_query``, ``y_query`` of shape ``(k_query, 1)``.
    """
    k_query = k_support if k_query is None else k_query
    if k_support < 1 or k_query < 1:
        raise ValueError(f"k_support and k_query must be >= 1, got {k_support} and {k_query}")
    if amplitude.shape != phase.shape or amplitude.dim() != 1:
        raise ValueError(
            f"amplitude and phase must be 1-D of equal length, got {tuple(amplitude.shape)} "
            f"and {tuple(phase.shape)}"
        )
    n = amplitude.shape[0]
    x = _uniform(n * (k_support + k_query), *X_RANGE, generator, amplitude.dtype)
    x = x.view(n, k_support + k_query, 1)
    y = evaluate(amplitude, phase, x)
    return [
        Task(x[i, :k_support], y[i, :k_support], x[i, k_support:], y[i, k_support:])
        for i in range(n)
    ]


def sample_tasks(
    num_tasks: int,
    k_support: int,
    k_query: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> list[Task]:
    """Draw ``num_tasks`` sinusoid tasks (functions and points) in one call."""
    amplitude, phase = sample_functions(num_tasks, generator, dtype)
    return tasks_from_functions(amplitude, phase, k_support, k_query, generator)
