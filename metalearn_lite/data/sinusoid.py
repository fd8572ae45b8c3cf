"""The sinusoid regression family of the MAML paper (Finn et al., 2017, section 5.1).

Each task is ``y = A * sin(x - phi)`` with amplitude ``A ~ U[0.1, 5.0]``, phase
``phi ~ U[0, pi]`` and inputs ``x ~ U[-5, 5]``; a learner sees ``K`` support points and is judged
on ``K`` query points of the same function. §1 (``notebooks/01_introduction.ipynb``), §2
(``notebooks/02_core_concepts.ipynb``), §3.3 (``notebooks/05_gradient_based.ipynb``) and §4.1
(``notebooks/07_maml_from_scratch.ipynb``) use it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import checks
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
    n_tasks: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor]:
    """Draw ``n_tasks`` sinusoids.

    Returns:
        ``(amplitude, phase)``, each of shape ``(n_tasks,)``.
    """
    checks.positive_int("n_tasks", n_tasks)
    checks.generator("generator", generator)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    amplitude = _uniform(n_tasks, *AMPLITUDE_RANGE, generator, dtype)
    phase = _uniform(n_tasks, *PHASE_RANGE, generator, dtype)
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
    k_shot: int,
    n_query: int | None = None,
    generator: torch.Generator | None = None,
) -> list[Task]:
    """Sample support and query points for given sinusoids.

    Args:
        amplitude, phase: ``(T,)`` tensors from :func:`sample_functions`.
        k_shot: points in each support set (the paper's ``K``).
        n_query: points in each query set (default: ``k_shot``, as in the paper).

    Returns:
        ``T`` tasks with ``x_support``, ``y_support`` of shape ``(k_shot, 1)`` and
        ``x_query``, ``y_query`` of shape ``(n_query, 1)``.
    """
    n_query = k_shot if n_query is None else n_query
    checks.positive_ints(k_shot=k_shot, n_query=n_query)
    checks.generator("generator", generator)
    checks.tensor("amplitude", amplitude, floating=True)
    checks.tensor("phase", phase, floating=True)
    if amplitude.shape != phase.shape or amplitude.dim() != 1:
        raise ValueError(
            f"amplitude and phase must be 1-D of equal length, got {tuple(amplitude.shape)} "
            f"and {tuple(phase.shape)}"
        )
    n = amplitude.shape[0]
    x = _uniform(n * (k_shot + n_query), *X_RANGE, generator, amplitude.dtype)
    x = x.view(n, k_shot + n_query, 1)
    y = evaluate(amplitude, phase, x)
    return [
        Task(x[i, :k_shot], y[i, :k_shot], x[i, k_shot:], y[i, k_shot:])
        for i in range(n)
    ]


def sample_tasks(
    n_tasks: int,
    k_shot: int,
    n_query: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> list[Task]:
    """Draw ``n_tasks`` sinusoid tasks (functions and points) in one call."""
    amplitude, phase = sample_functions(n_tasks, generator, dtype)
    return tasks_from_functions(amplitude, phase, k_shot, n_query, generator)
