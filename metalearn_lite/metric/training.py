"""Episodic training: the loop that turns a metric learner into a few-shot learner.

Vinyals et al. (2016) made the point that "test and train conditions must match": train on
episodes shaped like the test tasks. :func:`train_metric_learner` does exactly that for any model with a
``loss(task)`` method (every learner of :mod:`metalearn_lite.metric`). §3.1
(``notebooks/03_metric_learning.ipynb``) and §4.2 (``notebooks/08_few_shot.ipynb``) call it; the Omniglot
benchmark calls it with a learning-rate schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import checks
from ..tasks import Task
from ..training import optimizer_step

__all__ = ["train_metric_learner"]


def train_metric_learner(
    learner: nn.Module,
    episodes: Iterable[Task],
    num_steps: int,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    transform: Callable[[Task], Task] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Minimise ``learner.loss(task)`` over ``num_steps`` episodes, one Adam step per episode.

    Args:
        learner: a module with ``loss(task) -> scalar``, e.g. a
            :class:`~metalearn_lite.metric.PrototypicalNetwork`.
        episodes: an (infinite) iterable of tasks, e.g. an
            :class:`~metalearn_lite.data.EpisodeSampler`.
        num_steps: number of episodes (= optimiser steps).
        lr: Adam's learning rate when ``optimizer`` is not given (Snell et al. use 1e-3).
        optimizer: any optimiser over ``learner``'s parameters.
        scheduler: stepped once after every optimiser step.
        transform: applied to each task before the loss (data augmentation, for instance).
        device: where to train (default: the learner's device).
        progress: show a ``tqdm`` bar.

    Returns:
        ``{"loss": [...]}``, the training loss of every step.

    Raises:
        NonFiniteLossError: a non-finite loss, before its optimiser step (the weights stay as they were).
    """
    checks.positive_int("num_steps", num_steps)
    checks.boolean("progress", progress)
    if not callable(getattr(learner, "loss", None)):
        raise TypeError(f"learner must have a loss(task) method, got {type(learner).__name__}")
    if device is None:
        device = next(learner.parameters()).device
    optimizer = optimizer or torch.optim.Adam(learner.parameters(), lr=lr)
    learner.train()
    history: dict[str, list[float]] = {"loss": []}
    iterator = iter(episodes)
    for step in tqdm(range(num_steps), disable=not progress, desc=type(learner).__name__):
        try:
            task = next(iterator)
        except StopIteration:
            raise ValueError(f"episodes ran out after {len(history['loss'])} of {num_steps} steps") from None
        task = task.to(device)
        if transform is not None:
            task = transform(task)
        loss = optimizer_step(optimizer, learner.loss(task), f"the episode loss at step {step}")
        if scheduler is not None:
            scheduler.step()
        history["loss"].append(loss.item())
    learner.eval()
    return history
