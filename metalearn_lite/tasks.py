"""A few-shot *task*: a small support set to learn from and a query set to be judged on.

§1 (``notebooks/01_introduction.ipynb``) introduces the vocabulary (N-way K-shot, support,
query); every learner in the package consumes ``Task`` s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["LossFn", "Task", "stack_tasks"]

LossFn = Callable[[Tensor, Tensor], Tensor]
"""``loss_fn(prediction, target) -> scalar``, e.g. ``F.mse_loss`` or ``F.cross_entropy``."""


class Task(NamedTuple):
    """One task: ``(x_support, y_support, x_query, y_query)``.

    Shapes:
        x_support: ``(n_support, *input_shape)``
        y_support: ``(n_support,)`` class indices, or ``(n_support, *target_shape)`` for regression
        x_query: ``(n_query, *input_shape)``
        y_query: like ``y_support`` with ``n_query`` rows

    A batch of tasks stacked along a new leading dimension (see :func:`stack_tasks`) is also a
    ``Task`` whose fields carry that extra ``(n_tasks, ...)`` dimension.
    """

    x_support: Tensor
    y_support: Tensor
    x_query: Tensor
    y_query: Tensor

    def to(self, device: torch.device | str) -> Task:
        """The same task with every tensor moved to ``device``."""
        return Task(*(t.to(device) for t in self))


def stack_tasks(tasks: Sequence[Task]) -> Task:
    """Stack tasks of identical shapes into one ``Task`` with a leading ``n_tasks`` dimension.

    Raises:
        ValueError: when ``tasks`` is empty or the tasks' shapes differ.
    """
    if isinstance(tasks, Task) or (isinstance(tasks, tuple) and len(tasks) == 4
                                   and all(isinstance(t, Tensor) for t in tasks)):
        raise TypeError("tasks must be a sequence of Task, got a single task; pass [task]")
    if len(tasks) == 0:
        raise ValueError("tasks must be a non-empty sequence of Task")
    for name, *fields in zip(Task._fields, *tasks, strict=True):
        shapes = {tuple(f.shape) for f in fields}
        if len(shapes) != 1:
            raise ValueError(f"cannot stack tasks: field {name} has different shapes {sorted(shapes)}")
    return Task(*(torch.stack(fields) for fields in zip(*tasks, strict=True)))
