"""Learning each task on its own: the "traditional" learner that meta-learning is compared with.

§2 (``notebooks/02_core_concepts.ipynb``) contrasts three ways to meet a new task: train a network
from scratch on the task's few examples, fine-tune a network pretrained on all tasks jointly, or
fine-tune a MAML initialisation. The last two start from learned weights; all three then run
ordinary gradient descent on the support set. :func:`fit_each_task` runs that per-task training for
many tasks at once, one independent copy of the weights per task, with ``torch.func.vmap``: a few
hundred small networks trained in one loop instead of a few hundred loops. §5
(``notebooks/10_applications.ipynb``) uses it for per-user models.

Because every task's loss depends only on its own copy of the weights, the gradient of the summed
loss with respect to copy ``i`` is the gradient of task ``i``'s loss, and Adam and SGD update every
element independently: the result equals training each task separately (``tests/test_finetune.py``
checks it against a plain loop, and against :meth:`metalearn_lite.MAML.adapt` for SGD).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from .. import checks
from ..tasks import LossFn, Task, stack_tasks
from .fast_weights import call_per_task

__all__ = ["OPTIMIZERS", "fit_each_task", "predict_each_task"]

OPTIMIZERS = ("sgd", "adam")


def fit_each_task(
    model: nn.Module,
    loss_fn: LossFn,
    tasks: Sequence[Task],
    num_steps: int,
    lr: float,
    optimizer: str = "adam",
    params: dict[str, Tensor] | None = None,
    progress: bool = False,
) -> dict[str, Tensor]:
    """Train one copy of ``model``'s weights per task on that task's support set.

    Args:
        model: the architecture (its own weights are not changed).
        loss_fn: ``loss_fn(prediction, target) -> scalar``, applied to one task at a time.
        tasks: tasks of identical shapes (only the support sets are used).
        num_steps: optimiser steps per task (full batch: all ``k_support`` examples each step).
        lr: the optimiser's learning rate.
        optimizer: ``"adam"`` (``torch.optim.Adam`` defaults otherwise) or ``"sgd"`` (plain
            gradient descent, the update of :meth:`metalearn_lite.MAML.adapt`).
        params: the starting weights of every copy (default: ``model``'s current weights, e.g. a
            random initialisation for training from scratch, or a pretrained or MAML one).
        progress: show a ``tqdm`` bar over the steps.

    Returns:
        The trained weights, by parameter name, each with a leading ``n_tasks`` dimension; apply
        them with :func:`predict_each_task`.

    Raises:
        TypeError, ValueError: a bad argument, or tasks of different shapes.
        NonFiniteLossError: a non-finite loss (naming the task and the step), before that step.

    Shapes:
        tasks: ``x_support`` ``(k_support, *input_shape)`` each; returned values ``(n_tasks, *param_shape)``.
    """
    checks.module("model", model)
    checks.callable_("loss_fn", loss_fn)
    tasks = checks.check_tasks(tasks)
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.boolean("progress", progress)
    lr = checks.positive_number("lr", lr)
    checks.one_of("optimizer", optimizer, OPTIMIZERS)
    batch = stack_tasks(tasks)
    checks.matches_model("x_support", batch.x_support, model)
    own = dict(model.named_parameters())
    start = own if params is None else params
    if not isinstance(start, dict) or set(start) != set(own):
        got = sorted(start) if isinstance(start, dict) else type(start).__name__
        raise ValueError(f"params must have exactly the model's parameter names {sorted(own)}, got {got}")
    n_tasks = len(tasks)
    copies = {k: v.detach().unsqueeze(0).repeat(n_tasks, *([1] * v.dim())).requires_grad_()
              for k, v in start.items()}  # each (n_tasks, *param_shape)
    opt_class = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_class(list(copies.values()), lr=lr)

    def support_loss(weights: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return loss_fn(functional_call(model, weights, (x,)), y)

    batched_loss = vmap(support_loss)
    with torch.enable_grad():
        for step in tqdm(range(num_steps), desc=f"{optimizer} on {n_tasks} tasks", disable=not progress,
                         mininterval=1.0):
            losses = batched_loss(copies, batch.x_support, batch.y_support)  # (n_tasks,)
            checks.raise_if_non_finite(losses, "support loss", step=step)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
    return {k: v.detach() for k, v in copies.items()}


def predict_each_task(model: nn.Module, params: dict[str, Tensor], x: Tensor) -> Tensor:
    """Apply copy ``i`` of the weights (from :func:`fit_each_task`) to ``x[i]``, for every task.

    Raises:
        ValueError: ``x`` and ``params`` disagree on the number of tasks.

    Shapes:
        params: values ``(n_tasks, *param_shape)``;
        x: ``(n_tasks, n, *input_shape)`` -> ``(n_tasks, n, *output_shape)``.
    """
    with torch.no_grad():
        return call_per_task(model, params, x)
