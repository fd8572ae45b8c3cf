"""Reptile (Nichol, Achiam and Schulman, 2018): a first-order meta-learner without a query loss.

For each task, run ``inner_steps`` SGD steps from ``θ`` on its support set to get ``φ_i``; then move
``θ`` towards the adapted weights: ``θ ← θ + ε (mean_i φ_i - θ)``. With one task per meta-step this
is the paper's serial Algorithm 1; with several it is the batched Algorithm 2. No second
derivatives and no query set are needed. Chapter 3.3 compares it with MAML.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .maml import LossFn, _check_lr, _check_model_and_loss, _check_positive_int, _check_support, check_tasks, inner_sgd
from .tasks import Task

__all__ = ["Reptile"]


class Reptile(nn.Module):
    """Reptile around ``model``.

    Args:
        model: any ``nn.Module``; its parameters are ``θ`` and are updated in place by :meth:`meta_step`.
        loss_fn: ``loss_fn(prediction, target) -> scalar``.
        inner_lr: the inner SGD step size ``α``.
        inner_steps: inner SGD steps per task (``k`` in the paper; it needs ``k > 1`` to differ
            from joint training, see its section 5).
        outer_lr: the meta step size ``ε`` (the paper anneals it linearly to 0; assign
            :attr:`outer_lr` between steps to do the same).

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``loss_fn`` is not callable.
        ValueError: a learning rate ``<= 0`` or ``inner_steps < 1``.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, inner_lr: float, inner_steps: int, outer_lr: float) -> None:
        super().__init__()
        _check_model_and_loss(model, loss_fn)
        self.model, self.loss_fn = model, loss_fn
        self.inner_lr = _check_lr("inner_lr", inner_lr)
        self.inner_steps = _check_positive_int("inner_steps", inner_steps)
        self.outer_lr = _check_lr("outer_lr", outer_lr)

    def forward(self, x: Tensor, params: dict[str, Tensor] | None = None) -> Tensor:
        """The model applied to ``x`` with ``params`` (default: its own parameters ``θ``)."""
        return self.model(x) if params is None else functional_call(self.model, params, (x,))

    def adapt(
        self,
        x_support: Tensor,
        y_support: Tensor,
        params: dict[str, Tensor] | None = None,
        inner_steps: int | None = None,
    ) -> dict[str, Tensor]:
        """Detached fast weights after ``inner_steps`` (default: :attr:`inner_steps`) SGD steps.

        Shapes:
            x_support: ``(n_support, *input_shape)``; y_support: ``(n_support, *target_shape)``.
        """
        _check_support(x_support, y_support)
        steps = self.inner_steps if inner_steps is None else _check_positive_int("inner_steps", inner_steps)
        params = dict(self.model.named_parameters()) if params is None else params
        start = {k: v.detach() for k, v in params.items()}
        with torch.no_grad():
            return inner_sgd(self.model, self.loss_fn, start, x_support, y_support, self.inner_lr, steps, False)

    def meta_step(self, tasks: Sequence[Task]) -> float:
        """One Reptile update of the model's parameters, in place, from ``tasks``.

        Returns:
            The mean query loss at the adapted weights (a number to log; it plays no part in the update).

        Raises:
            TypeError, ValueError: see :func:`~metalearn_lite.maml.check_tasks`; ValueError also on
                a non-finite inner loss.
        """
        tasks = check_tasks(tasks)
        theta = {k: v.detach() for k, v in self.model.named_parameters()}
        mean_fast = {k: torch.zeros_like(v) for k, v in theta.items()}
        query_loss = 0.0
        with torch.no_grad():
            for i, task in enumerate(tasks):
                fast = inner_sgd(
                    self.model, self.loss_fn, theta, task.x_support, task.y_support,
                    self.inner_lr, self.inner_steps, False, task_index=i,
                )
                for k, v in fast.items():
                    mean_fast[k] += v / len(tasks)
                query_loss += self.loss_fn(self(task.x_query, fast), task.y_query).item() / len(tasks)
            for name, p in self.model.named_parameters():
                p.add_(mean_fast[name] - p, alpha=self.outer_lr)
        return query_loss
