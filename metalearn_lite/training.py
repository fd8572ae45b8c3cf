"""The meta-training loop the chapters share, one guarded optimiser step, and fast adaptation measured.

:func:`optimizer_step` is the only place in the package that calls ``backward()`` and steps an
optimiser on a training loss: it refuses a non-finite loss *before* touching the parameters, so a
NaN stops training with the weights as they were, and it clips gradients when asked. Every trainer
of the package goes through it.

:func:`meta_train` runs any step function (a MAML optimiser step, a Reptile step, joint training
of a baseline) on freshly sampled batches of tasks, with a ``tqdm`` bar, and returns a history to
plot. :func:`adaptation_losses` measures the query loss after 0, 1, ..., ``max_inner_steps`` inner
steps, the curve of Figure 2 of the MAML paper (Finn et al., 2017). §3.3
(``notebooks/05_gradient_based.ipynb``) uses both; §4.1 (``notebooks/07_maml_from_scratch.ipynb``)
keeps its outer loop visible instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import checks
from .tasks import LossFn, Task

__all__ = ["adaptation_losses", "joint_training_step", "meta_loss_step", "meta_train", "optimizer_step"]

StepFn = Callable[[Sequence[Task]], float]


def optimizer_step(
    optimizer: torch.optim.Optimizer,
    loss: Tensor,
    what: str,
    max_grad_norm: float | None = None,
) -> Tensor:
    """``zero_grad``, ``backward``, optional gradient clipping, ``step``: unless ``loss`` is not finite.

    Args:
        optimizer: the optimiser of the parameters ``loss`` depends on.
        loss: a scalar training loss.
        what: names the loss in the error, e.g. ``"the meta-loss at step 12"``.
        max_grad_norm: clip the global gradient norm of the optimiser's parameters to this (``None``: no clipping).

    Returns:
        ``loss``, detached.

    Raises:
        NonFiniteLossError: ``loss`` is NaN or infinite; nothing was changed.
    """
    checks.finite_loss(loss, what)
    if max_grad_norm is not None:
        checks.positive_number("max_grad_norm", max_grad_norm)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    optimizer.step()
    return loss.detach()


class Adapter(Protocol):
    """What :func:`adaptation_losses` needs: every :class:`~metalearn_lite.gradient.GradientLearner` has it."""

    loss_fn: LossFn

    def adapt(self, x_support: Tensor, y_support: Tensor, params=None, inner_steps=None) -> dict[str, Tensor]: ...

    def __call__(self, x: Tensor, params: dict[str, Tensor] | None = None) -> Tensor: ...


def meta_loss_step(learner: nn.Module, optimizer: torch.optim.Optimizer) -> StepFn:
    """A step function for :func:`meta_train`: :func:`optimizer_step` on ``learner.meta_loss(tasks)``.

    ``learner`` is any learner with a ``meta_loss`` (MAML, first-order MAML, Meta-SGD, ANIL, CAVIA).
    """
    if not callable(getattr(learner, "meta_loss", None)):
        raise TypeError(f"learner must have a meta_loss(tasks) method, got {type(learner).__name__}")
    count = iter(range(1 << 62))

    def step(tasks: Sequence[Task]) -> float:
        return optimizer_step(optimizer, learner.meta_loss(tasks), f"the meta-loss at step {next(count)}").item()

    return step


def joint_training_step(model: nn.Module, loss_fn: LossFn, optimizer: torch.optim.Optimizer) -> StepFn:
    """A step function that fits ``model`` to the support *and* query points of all tasks at once.

    This is the MAML paper's "pretrained" baseline: one network trained on the pooled data of
    every task, with no notion of adaptation.
    """

    checks.module("model", model)
    checks.callable_("loss_fn", loss_fn)
    count = iter(range(1 << 62))

    def step(tasks: Sequence[Task]) -> float:
        tasks = checks.check_tasks(tasks)
        x = torch.cat([torch.cat([t.x_support, t.x_query]) for t in tasks])
        y = torch.cat([torch.cat([t.y_support, t.y_query]) for t in tasks])
        checks.matches_model("x", x, model)
        return optimizer_step(optimizer, loss_fn(model(x), y), f"the joint loss at step {next(count)}").item()

    return step


def meta_train(
    step: StepFn,
    sample_tasks: Callable[[], Sequence[Task]],
    num_steps: int,
    evaluate: Callable[[], float] | None = None,
    eval_every: int = 0,
    desc: str = "meta-training",
    progress: bool = True,
) -> dict[str, list[float]]:
    """Call ``step(sample_tasks())`` ``num_steps`` times and record what happens.

    Args:
        step: performs one meta-update and returns its training loss (see :func:`meta_loss_step`).
        sample_tasks: returns a fresh batch of tasks (meta_batch_size of them).
        num_steps: number of meta-updates.
        evaluate: optional, returns a validation metric; called every ``eval_every`` iterations
            and after the last one.
        eval_every: evaluation period (0: only at the end, when ``evaluate`` is given).
        desc, progress: the ``tqdm`` bar's label, and whether to show it.

    Returns:
        ``{"loss": [...], "eval_iteration": [...], "eval": [...]}``: the training loss of every
        iteration, and the iterations at which ``evaluate`` ran with its values.
    """
    checks.callable_("step", step)
    checks.callable_("sample_tasks", sample_tasks)
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.boolean("progress", progress)
    checks.non_negative_int("eval_every", eval_every)
    history: dict[str, list[float]] = {"loss": [], "eval_iteration": [], "eval": []}
    bar = tqdm(range(1, num_steps + 1), desc=desc, disable=not progress, mininterval=1.0)
    for it in bar:
        loss = step(sample_tasks())
        checks.finite_loss(torch.as_tensor(loss), f"the training loss of step {it}")
        history["loss"].append(float(loss))
        if evaluate is not None and ((eval_every and it % eval_every == 0) or it == num_steps):
            if not history["eval_iteration"] or history["eval_iteration"][-1] != it:
                history["eval_iteration"].append(it)
                history["eval"].append(evaluate())
        if it % 50 == 0 or it == num_steps:
            bar.set_postfix(loss=f"{sum(history['loss'][-50:]) / len(history['loss'][-50:]):.3f}")
    return history


def adaptation_losses(learner: Adapter, tasks: Sequence[Task], max_inner_steps: int) -> Tensor:
    """Query loss of every task after 0, 1, ..., ``max_inner_steps`` inner steps of ``learner.adapt``.

    A :class:`~metalearn_lite.gradient.GradientLearner` computes it itself (its ``adaptation_curve``:
    the same steps, batched over tasks with ``vmap`` where its path rule says so); any other learner
    with ``adapt`` is run task after task here.

    Returns:
        ``(len(tasks), max_inner_steps + 1)`` losses; column ``s`` is after ``s`` steps.
    """
    curve = getattr(learner, "adaptation_curve", None)
    if callable(curve):  # a GradientLearner: its own inner loop, batched over tasks where vmap pays
        return curve(tasks, max_inner_steps)
    tasks = checks.check_tasks(tasks)
    checks.non_negative_int("max_inner_steps", max_inner_steps)
    out = torch.empty(len(tasks), max_inner_steps + 1, dtype=torch.float64)
    with torch.no_grad():
        for i, task in enumerate(tasks):
            params = None
            for s in range(max_inner_steps + 1):
                if s > 0:
                    params = learner.adapt(task.x_support, task.y_support, params=params, inner_steps=1)
                out[i, s] = learner.loss_fn(learner(task.x_query, params), task.y_query).item()
    return out
