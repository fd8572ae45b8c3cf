"""Few-shot evaluation: means with 95 % confidence intervals, over episodes and over seeds.

Few-shot papers report ``mean ± 1.96 * std / sqrt(n)`` over ``n`` test episodes (e.g. Snell et
al., 2017, use 1,000 episodes on Omniglot); :func:`evaluate_episodes` does the same, and
:func:`mean_ci` computes that interval for any list of numbers (per-task losses, returns, the
results of several seeds). :func:`score_runs` is the error on Lake et al.'s official one-shot runs.
Introduced in §1 (``notebooks/01_introduction.ipynb``); every chapter that reports a mean uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from . import checks
from .tasks import Task

if TYPE_CHECKING:
    from .data.omniglot import OneShotRun

__all__ = ["Accuracy", "MeanCI", "accuracy_ci", "evaluate_episodes", "mean_ci", "score_runs"]


class MeanCI(NamedTuple):
    """A mean, the half-width of its normal-approximation 95 % interval, and the number of values."""

    mean: float
    ci95: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.ci95:.2g} (n = {self.n})"


def mean_ci(values: Iterable[float] | Tensor) -> MeanCI:
    """Mean and 95 % interval half-width ``1.96 · std / sqrt(n)`` (unbiased std; 0 for one value).

    Raises:
        ValueError: no values, or a non-finite one.
    """
    data = torch.as_tensor(values if isinstance(values, Tensor) else list(values), dtype=torch.float64).flatten()
    if data.numel() == 0:
        raise ValueError("values must contain at least one number")
    if not torch.isfinite(data).all():
        raise ValueError(f"values must be finite, got {data[~torch.isfinite(data)][:3].tolist()}")
    n = data.numel()
    std = data.std(unbiased=True).item() if n > 1 else 0.0
    return MeanCI(data.mean().item(), 1.96 * std / math.sqrt(n), n)


class Accuracy(MeanCI):
    """Mean accuracy over ``episodes`` (``n``) episodes and the half-width of its 95 % interval."""

    __slots__ = ()

    @property
    def episodes(self) -> int:
        """The number of episodes averaged (``n``)."""
        return self.n

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f} ± {100 * self.ci95:.1f} % ({self.n} episodes)"


def accuracy_ci(per_episode: Iterable[float]) -> Accuracy:
    """:func:`mean_ci` of per-episode accuracies, which must lie in ``[0, 1]``."""
    values = per_episode if isinstance(per_episode, Tensor) else torch.as_tensor(list(per_episode), dtype=torch.float64)
    result = mean_ci(values)
    if (values < 0).any() or (values > 1).any():
        raise ValueError("per_episode accuracies must be numbers in [0, 1]")
    return Accuracy(*result)


def evaluate_episodes(
    predict: Callable[[Task], Tensor], episodes: Iterable[Task], num_episodes: int | None = None
) -> Accuracy:
    """Accuracy of ``predict`` (task -> ``(n_query,)`` predicted labels) over episodes.

    Args:
        predict: a few-shot learner: given a task, the predicted label of each query example.
        episodes: an iterable of tasks, e.g. an :class:`~metalearn_lite.data.EpisodeSampler`.
        num_episodes: stop after this many (needed for an infinite sampler).
    """
    checks.callable_("predict", predict)
    if num_episodes is not None:
        checks.positive_int("num_episodes", num_episodes)
    accuracies = []
    for i, task in enumerate(episodes):
        if num_episodes is not None and i >= num_episodes:
            break
        with torch.no_grad():
            predicted = predict(task)
        if not isinstance(predicted, Tensor) or predicted.shape != task.y_query.shape:
            got = tuple(predicted.shape) if isinstance(predicted, Tensor) else type(predicted).__name__
            raise ValueError(f"predict must return one label per query, shape {tuple(task.y_query.shape)}, got {got}")
        accuracies.append((predicted.to(task.y_query.device) == task.y_query).float().mean().item())
    return accuracy_ci(accuracies)


def score_runs(predict: Callable[[Task], Tensor], runs: Sequence[OneShotRun]) -> float:
    """Error rate of ``predict`` over Lake et al.'s official one-shot runs (their measure, 2015).

    Args:
        predict: maps a 20-way 1-shot :class:`~metalearn_lite.Task` to ``(20,)`` predicted
            indices of the training drawings, one per test drawing.
        runs: from :func:`~metalearn_lite.data.omniglot.load_runs`.

    Returns:
        The fraction of wrong answers over all ``20 * len(runs)`` test drawings.
    """
    checks.callable_("predict", predict)
    if len(runs) == 0:
        raise ValueError("runs must hold at least one run")
    wrong = total = 0
    for run in runs:
        predicted = torch.as_tensor(predict(run.as_task())).reshape(-1).cpu()
        if predicted.shape != run.y_test.shape:
            raise ValueError(f"predict must return {tuple(run.y_test.shape)} indices, got {tuple(predicted.shape)}")
        wrong += int((predicted != run.y_test).sum())
        total += len(run.y_test)
    return wrong / total
