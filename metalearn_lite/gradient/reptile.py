"""Reptile (Nichol, Achiam and Schulman, 2018): a first-order meta-learner without a query loss.

For each task, run ``inner_steps`` SGD steps from ``θ`` on its support set to get ``φ_i``; then move
``θ`` towards the adapted weights: ``θ ← θ + ε (mean_i φ_i - θ)``. With one task per meta-step this
is the paper's serial Algorithm 1; with several it is the batched Algorithm 2. No second
derivatives and no query set are needed. The inner loop is the package's kernel, run without a
graph, for all tasks at once with ``vmap`` where the path rule picks it (the sinusoid MLP), else task
after task. Taught in §3.3 (``notebooks/05_gradient_based.ipynb``), beside MAML.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import vmap

from .. import checks
from ..tasks import LossFn, Task, stack_tasks
from .fast_weights import Params, call_per_task, choose_path
from .learner import GradientLearner

__all__ = ["Reptile"]


class Reptile(GradientLearner):
    """Reptile around ``model``.

    Args:
        model: any ``nn.Module``; its parameters are ``θ`` and are updated in place by :meth:`meta_step`.
        loss_fn: ``loss_fn(prediction, target) -> scalar``.
        inner_lr: the inner SGD step size ``α``.
        inner_steps: inner SGD steps per task (``k`` in the paper; it needs ``k > 1`` to differ
            from joint training, see its section 5).
        outer_lr: the meta step size ``ε`` (the paper anneals it linearly to 0; assign
            :attr:`outer_lr` between steps to do the same).
        path: ``"auto"``, ``"loop"`` or ``"vmap"``: how :meth:`meta_step` runs its tasks' inner loops
            (see :mod:`~metalearn_lite.gradient.learner`; the two give the same step).

    Raises:
        TypeError, ValueError: a bad argument, named in the message.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, inner_lr: float, inner_steps: int, outer_lr: float,
                 path: str = "auto") -> None:
        super().__init__(model, loss_fn, inner_lr, inner_steps, first_order=True, path=path)
        self.outer_lr = checks.positive_number("outer_lr", outer_lr)

    def adapt(
        self, x_support: Tensor, y_support: Tensor, params: Params | None = None, inner_steps: int | None = None
    ) -> Params:
        """Detached fast weights after ``inner_steps`` (default: :attr:`inner_steps`) SGD steps.

        Shapes:
            x_support: ``(n_support, *input_shape)``; y_support: ``(n_support, *target_shape)``.
        """
        start = {k: v.detach() for k, v in (self.initial_params() if params is None else params).items()}
        with torch.no_grad():
            return super().adapt(x_support, y_support, start, inner_steps)

    def meta_step(self, tasks: Sequence[Task]) -> float:
        """One Reptile update of the model's parameters, in place, from ``tasks``.

        Returns:
            The mean query loss at the adapted weights (a number to log; it plays no part in the update).

        Raises:
            TypeError, ValueError: bad tasks (see :func:`~metalearn_lite.checks.check_tasks`).
            NonFiniteLossError: a non-finite inner loss; ``θ`` is left unchanged.
        """
        tasks = checks.check_tasks(tasks)
        for i, task in enumerate(tasks):
            self.check_data(f"tasks[{i}].x_support", task.x_support)
        if choose_path(self.path, self.model, tasks) == "vmap":  # every task's inner loop at once
            batch = stack_tasks(tasks)
            fast = self.adapt_each(batch.x_support, batch.y_support)  # each (n_tasks, *shape)
            mean_fast = {k: v.mean(0) for k, v in fast.items()}
            with torch.no_grad():
                predictions = call_per_task(self.model, fast, batch.x_query)
                query_loss = vmap(self.loss_fn)(predictions, batch.y_query).mean().item()
        else:
            theta = {k: v.detach() for k, v in self.model.named_parameters()}
            mean_fast = {k: torch.zeros_like(v) for k, v in theta.items()}
            query_loss = 0.0
            with torch.no_grad():
                for i, task in enumerate(tasks):
                    fast = self.adapt_loss(self.support_objective(task.x_support, task.y_support), theta, task=i)
                    for k, v in fast.items():
                        mean_fast[k] += v / len(tasks)
                    query_loss += self.loss_fn(self(task.x_query, fast), task.y_query).item() / len(tasks)
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.add_(mean_fast[name] - p, alpha=self.outer_lr)
        return query_loss
