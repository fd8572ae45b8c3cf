"""The query loss after 0, 1, ..., n inner steps, for many tasks at once: the adaptation curves of §3.3.

:func:`adaptation_curve` runs a learner's own inner loop (its start, its support objective, its step
sizes) one step at a time and records the query loss before the first step and after each. Where
the learner's path rule picks ``vmap`` (small networks without convolutions or buffers) it does so
for all tasks at once, which for the sinusoid MLP is several times faster than one task after
another; otherwise it loops. :func:`metalearn_lite.training.adaptation_losses` calls it for every
:class:`~metalearn_lite.gradient.GradientLearner`. Taught in §3.3
(``notebooks/05_gradient_based.ipynb``), whose results section plots these curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.func import vmap

from .. import checks
from ..tasks import Task, stack_tasks
from .fast_weights import adapt, choose_path

if TYPE_CHECKING:
    from .learner import GradientLearner

__all__ = ["adaptation_curve"]


def _one_task(learner: GradientLearner, lrs: float | dict[str, Tensor], max_inner_steps: int, x_support: Tensor,
              y_support: Tensor, x_query: Tensor, y_query: Tensor, functional: bool) -> tuple[Tensor, Tensor]:
    """``(max_inner_steps + 1,)`` query losses and ``(max_inner_steps,)`` support losses of one task."""
    params = {k: v.detach() for k, v in learner.task_start(x_support, y_support).items()}
    objective = learner.support_objective(x_support, y_support)
    query, inner = [learner.loss_fn(learner.apply(params, x_query), y_query)], []
    for _ in range(max_inner_steps):
        params, support = adapt(objective, params, lrs, 1, first_order=True, functional=functional)
        params = {k: v.detach() for k, v in params.items()}
        inner.append(support[0])
        query.append(learner.loss_fn(learner.apply(params, x_query), y_query))
    return torch.stack(query).detach(), torch.stack(inner) if inner else query[0].new_zeros(0)


def adaptation_curve(learner: GradientLearner, tasks: Sequence[Task], max_inner_steps: int) -> Tensor:
    """Query loss of every task after 0, 1, ..., ``max_inner_steps`` of ``learner``'s inner steps.

    Raises:
        TypeError, ValueError: bad tasks or a negative ``max_inner_steps``, named in the message.
        NonFiniteLossError: an inner (support) loss that is not finite, naming the task and step.

    Shapes:
        -> ``(len(tasks), max_inner_steps + 1)``, float64; column ``s`` is after ``s`` steps.
    """
    tasks = checks.check_tasks(tasks)
    checks.non_negative_int("max_inner_steps", max_inner_steps)
    for i, task in enumerate(tasks):
        learner.check_data(f"tasks[{i}].x_support", task.x_support)
    learner.check_labels(tasks)
    lrs = learner.inner_lrs_by_name()
    lrs = lrs if isinstance(lrs, float) else {k: v.detach() for k, v in lrs.items()}
    one = partial(_one_task, learner, lrs, max_inner_steps)
    with torch.no_grad():  # torch.func's gradients ignore it; nothing here needs a graph
        if choose_path(learner.path, learner.model, tasks) == "vmap":
            query, inner = vmap(partial(one, functional=True))(*stack_tasks(tasks))
        else:
            rows = [one(*task, functional=learner.functional_inner) for task in tasks]
            query, inner = (torch.stack([row[j] for row in rows]) for j in (0, 1))
    checks.raise_if_non_finite(inner, "inner (support) loss")
    return query.to(torch.float64)
