"""The meta-training loop the chapters share, and how to measure fast adaptation.

:func:`meta_train` runs any step function (a MAML optimiser step, a Reptile step, joint training
of a baseline) on freshly sampled batches of tasks, with a ``tqdm`` bar, and returns a history to
plot. :func:`adaptation_losses` measures the query loss after 0, 1, ..., ``max_steps`` inner steps,
the curve of Figure 2 of the MAML paper (Finn et al., 2017). Chapter 3.3 uses both; chapter 4.1
keeps its outer loop visible instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .maml import LossFn, _check_positive_int, check_tasks
from .tasks import Task

__all__ = ["meta_train", "maml_step", "joint_training_step", "adaptation_losses"]

StepFn = Callable[[Sequence[Task]], float]


class Adapter(Protocol):
    """What :func:`adaptation_losses` needs: :class:`~metalearn_lite.MAML` and ``Reptile`` have it."""

    loss_fn: LossFn

    def adapt(self, x_support: Tensor, y_support: Tensor, params=None, inner_steps=None) -> dict[str, Tensor]: ...

    def __call__(self, x: Tensor, params: dict[str, Tensor] | None = None) -> Tensor: ...


def maml_step(maml: nn.Module, optimizer: torch.optim.Optimizer) -> StepFn:
    """A step function for :func:`meta_train`: zero the gradients, ``meta_loss(tasks).backward()``, step."""

    def step(tasks: Sequence[Task]) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = maml.meta_loss(tasks)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def joint_training_step(model: nn.Module, loss_fn: LossFn, optimizer: torch.optim.Optimizer) -> StepFn:
    """A step function that fits ``model`` to the support *and* query points of all tasks at once.

    This is the MAML paper's "pretrained" baseline: one network trained on the pooled data of
    every task, with no notion of adaptation.
    """

    def step(tasks: Sequence[Task]) -> float:
        tasks = check_tasks(tasks)
        x = torch.cat([torch.cat([t.x_support, t.x_query]) for t in tasks])
        y = torch.cat([torch.cat([t.y_support, t.y_query]) for t in tasks])
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def meta_train(
    step: StepFn,
    sample_tasks: Callable[[], Sequence[Task]],
    num_iterations: int,
    evaluate: Callable[[], float] | None = None,
    eval_every: int = 0,
    desc: str = "meta-training",
    progress: bool = True,
) -> dict[str, list[float]]:
    """Call ``step(sample_tasks())`` ``num_iterations`` times and record what happens.

    Args:
        step: performs one meta-update and returns its training loss (see :func:`maml_step`).
        sample_tasks: returns a fresh batch of tasks (meta_batch_size of them).
        num_iterations: number of meta-updates.
        evaluate: optional, returns a validation metric; called every ``eval_every`` iterations
            and after the last one.
        eval_every: evaluation period (0: only at the end, when ``evaluate`` is given).
        desc, progress: the ``tqdm`` bar's label, and whether to show it.

    Returns:
        ``{"loss": [...], "eval_iteration": [...], "eval": [...]}``: the training loss of every
        iteration, and the iterations at which ``evaluate`` ran with its values.
    """
    num_iterations = _check_positive_int("num_iterations", num_iterations)
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 0:
        raise ValueError(f"eval_every must be an int >= 0, got {eval_every!r}")
    history: dict[str, list[float]] = {"loss": [], "eval_iteration": [], "eval": []}
    bar = tqdm(range(1, num_iterations + 1), desc=desc, disable=not progress, mininterval=1.0)
    for it in bar:
        history["loss"].append(step(sample_tasks()))
        if evaluate is not None and ((eval_every and it % eval_every == 0) or it == num_iterations):
            if not history["eval_iteration"] or history["eval_iteration"][-1] != it:
                history["eval_iteration"].append(it)
                history["eval"].append(evaluate())
        if it % 50 == 0 or it == num_iterations:
            bar.set_postfix(loss=f"{sum(history['loss'][-50:]) / len(history['loss'][-50:]):.3f}")
    return history


def adaptation_losses(learner: Adapter, tasks: Sequence[Task], max_steps: int) -> Tensor:
    """Query loss of every task after 0, 1, ..., ``max_steps`` inner steps of ``learner.adapt``.

    Returns:
        ``(len(tasks), max_steps + 1)`` losses; column ``s`` is after ``s`` steps.
    """
    tasks = check_tasks(tasks)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
        raise ValueError(f"max_steps must be an int >= 0, got {max_steps!r}")
    out = torch.empty(len(tasks), max_steps + 1, dtype=torch.float64)
    with torch.no_grad():
        for i, task in enumerate(tasks):
            params = None
            for s in range(max_steps + 1):
                if s > 0:
                    params = learner.adapt(task.x_support, task.y_support, params=params, inner_steps=1)
                out[i, s] = learner.loss_fn(learner(task.x_query, params), task.y_query).item()
    return out
