"""Few-shot evaluation: mean accuracy over many episodes with a 95 % confidence interval.

Few-shot papers report ``mean ± 1.96 * std / sqrt(n)`` over ``n`` test episodes (e.g. Snell et
al., 2017, use 1,000 episodes on Omniglot); :func:`evaluate_episodes` does the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import NamedTuple

import torch
from torch import Tensor

from .tasks import Task

__all__ = ["Accuracy", "accuracy_ci", "evaluate_episodes"]


class Accuracy(NamedTuple):
    """Mean accuracy over ``episodes`` episodes and the half-width of its 95 % interval."""

    mean: float
    ci95: float
    episodes: int

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f} ± {100 * self.ci95:.1f} % ({self.episodes} episodes)"


def accuracy_ci(per_episode: Iterable[float]) -> Accuracy:
    """Mean and normal-approximation 95 % interval half-width (1.96 standard errors)."""
    values = torch.as_tensor(list(per_episode), dtype=torch.float64)
    if values.numel() == 0:
        raise ValueError("per_episode must contain at least one accuracy")
    if not torch.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError("per_episode accuracies must be finite numbers in [0, 1]")
    n = values.numel()
    std = values.std(unbiased=True).item() if n > 1 else 0.0
    return Accuracy(values.mean().item(), 1.96 * std / math.sqrt(n), n)


def evaluate_episodes(
    predict: Callable[[Task], Tensor], episodes: Iterable[Task], num_episodes: int | None = None
) -> Accuracy:
    """Accuracy of ``predict`` (task -> ``(n_query,)`` predicted labels) over episodes.

    Args:
        predict: a few-shot learner: given a task, the predicted label of each query example.
        episodes: an iterable of tasks, e.g. an :class:`~metalearn_lite.data.EpisodeSampler`.
        num_episodes: stop after this many (needed for an infinite sampler).
    """
    accuracies = []
    for i, task in enumerate(episodes):
        if num_episodes is not None and i >= num_episodes:
            break
        with torch.no_grad():
            predicted = predict(task)
        if predicted.shape != task.y_query.shape:
            raise ValueError(
                f"predict must return one label per query, shape {tuple(task.y_query.shape)}, "
                f"got {tuple(predicted.shape)}"
            )
        accuracies.append((predicted == task.y_query).float().mean().item())
    return accuracy_ci(accuracies)
