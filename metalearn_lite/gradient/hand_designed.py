"""Hand-designed optimizers as the baselines of a learned one: run, tune fairly, average over problems.

A learned optimizer (``learned_optimizer``) is only as good as the comparison it wins. These helpers
run a ``torch.optim`` optimizer on the same losses of parameters and return the same
:class:`~metalearn_lite.gradient.learned_optimizer.Trajectory` (:func:`optimize_with`), pick its
learning rate on *training* problems from a grid (:func:`best_learning_rate`), and average losses that
span orders of magnitude by their geometric mean (:func:`geometric_mean`). §3.3
(``notebooks/05_gradient_based.ipynb``) uses them against the LSTM optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .. import checks
from .fast_weights import Params
from .learned_optimizer import Trajectory

__all__ = ["best_learning_rate", "geometric_mean", "optimize_with"]


def optimize_with(
    optimizer_class: type[torch.optim.Optimizer],
    loss_of_params: Callable[[Params], Tensor],
    params: Params,
    steps: int,
    **optimizer_kwargs: object,
) -> Trajectory:
    """The same run with a hand-designed ``torch.optim`` optimizer (``torch.optim.Adam, lr=0.1``, ...).

    ``params`` is copied, never changed. Returns a :class:`Trajectory` whose ``state`` is ``None``.
    """
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise TypeError(f"optimizer_class must be a torch.optim.Optimizer subclass, got {optimizer_class!r}")
    checks.callable_("loss_of_params", loss_of_params)
    steps = checks.non_negative_int("steps", steps)
    leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    opt = optimizer_class(list(leaves.values()), **optimizer_kwargs)
    losses = []
    for step in range(steps + 1):
        loss = loss_of_params(leaves)
        checks.finite_loss(loss, f"the loss being optimised at step {step}")
        losses.append(loss.detach())
        if step < steps:
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
    return Trajectory({k: v.detach() for k, v in leaves.items()}, torch.stack(losses), None)


def geometric_mean(losses: Tensor) -> Tensor:
    """The geometric mean over a batch of problems, step by step (``inf`` once a problem diverged).

    Losses of random problems span orders of magnitude; the arithmetic mean is the few largest, the
    geometric mean (the exponential of the mean log-loss, what ``objective="log"`` trains) weighs
    every problem alike.

    Shapes:
        ``losses`` ``(steps + 1, P)`` (a :class:`Trajectory`'s) -> ``(steps + 1,)``, in float64.
    """
    checks.tensor("losses", losses, dim=2, floating=True)
    return losses.double().clamp_min(1e-300).log().mean(-1).exp()


def best_learning_rate(
    optimizer_class: type[torch.optim.Optimizer],
    loss_of_params: Callable[[Params], Tensor],
    params: Params,
    grid: list[float],
    steps: int,
) -> tuple[float, dict[float, float]]:
    """Tune a hand-designed optimizer fairly: the ``grid`` learning rate with the lowest geometric-mean loss.

    Run it on *training* problems and compare on held-out ones, as a learned optimizer is judged.

    Returns:
        ``(best_lr, {lr: geometric-mean loss after steps})``, ``inf`` for a rate at which some problem diverged.
    """
    if not isinstance(grid, list | tuple) or not grid:
        raise ValueError(f"grid must be a non-empty list of learning rates, got {grid!r}")
    scores = {}
    for lr in grid:
        checks.positive_number("a learning rate of grid", lr)
        try:
            run = optimize_with(optimizer_class, loss_of_params, params, steps, lr=lr)
            scores[lr] = geometric_mean(run.losses.reshape(steps + 1, -1))[-1].item()
        except checks.NonFiniteLossError:
            scores[lr] = math.inf
    return min(scores, key=scores.get), scores
