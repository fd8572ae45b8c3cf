"""CAVIA: fast context adaptation via meta-learning (Zintgraf et al., 2019).

CAVIA splits a network's inputs into the data ``x`` and a small vector of *context parameters*
``φ`` that is concatenated to ``x``. For each task, ``φ`` starts at zero and takes a few SGD steps on
the support loss; the network weights ``θ`` stay fixed in that inner loop and are meta-learned in
the outer loop only, by back-propagating the query loss through the context's inner steps:

    φ_i = 0 - α ∇_φ L_support_i(θ, 0)            (one inner step; more repeat it)
    θ  ← θ - β ∇_θ mean_i L_query_i(θ, φ_i)

So a task is described by a handful of numbers (the paper uses 5 for sinusoids) instead of a full
copy of the weights as in MAML, and because ``φ`` restarts at zero for every task, it cannot carry
anything from one task to the next. The paper's regression defaults (its code's arguments): context
concatenated to the input, inner learning rate 1.0, one inner step, 5 context parameters, a
1-40-40-1 ReLU network, Adam with 0.001 and 25 tasks per meta-update. (For image classification
the paper instead modulates conv features with FiLM layers driven by ``φ``; that variant is not
implemented here.) Chapter 3.4 compares it with MAML on sinusoids.

Like :class:`~metalearn_lite.MAML`, the meta-loss has a ``"loop"`` path (one task after another,
``torch.autograd.grad``) and a ``"vmap"`` path (all tasks at once with ``torch.func``); ``"auto"``
picks vmap for models without convolutions or buffers when all tasks have the same shapes.
``tests/test_cavia.py`` checks both against finite differences and each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, vmap

from .maml import (
    PATHS,
    LossFn,
    _check_lr,
    _check_model_and_loss,
    _check_positive_int,
    _check_support,
    _raise_non_finite,
    check_tasks,
)
from .tasks import Task, stack_tasks

__all__ = ["CAVIA", "with_context"]


def with_context(x: Tensor, context: Tensor) -> Tensor:
    """``x`` with the same context vector appended to the features of every example.

    Shapes:
        x: ``(*, n_features)``; context: ``(num_context_params,)`` -> ``(*, n_features + num_context_params)``.
    """
    return torch.cat([x, context.expand(*x.shape[:-1], context.shape[-1])], dim=-1)


class CAVIA(nn.Module):
    """CAVIA around ``model``: only a context vector, reset to zero per task, is adapted per task.

    Args:
        model: a network whose input is ``n_features + num_context_params`` wide (the data, then the
            context); its parameters ``θ`` are meta-learned in the outer loop only.
        loss_fn: ``loss_fn(prediction, target) -> scalar`` (e.g. ``F.mse_loss``).
        num_context_params: size of the context vector ``φ`` (the paper: 5 for sinusoids).
        inner_lr: the inner step size ``α`` on ``φ`` (the paper: 1.0 for regression).
        inner_steps: SGD steps on ``φ`` per task (the paper: 1 during meta-training).
        first_order: treat the inner gradients as constants (no second-order terms).
        path: ``"auto"``, ``"loop"`` or ``"vmap"`` (see the module docstring).

    The adapted quantity is called ``params`` in :meth:`adapt` and :meth:`forward`, as in
    :class:`~metalearn_lite.MAML`, but here it is the context tensor of shape
    ``(num_context_params,)``, not a dictionary of weights; so CAVIA plugs into
    :func:`~metalearn_lite.training.adaptation_losses` and
    :func:`~metalearn_lite.training.maml_step` unchanged.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``loss_fn`` is not callable.
        ValueError: ``num_context_params < 1``, ``inner_lr <= 0``, ``inner_steps < 1``, an unknown
            ``path``, or a first linear layer too narrow to take the context.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        num_context_params: int = 5,
        inner_lr: float = 1.0,
        inner_steps: int = 1,
        first_order: bool = False,
        path: str = "auto",
    ) -> None:
        super().__init__()
        _check_model_and_loss(model, loss_fn)
        if path not in PATHS:
            raise ValueError(f"path must be one of {PATHS}, got {path!r}")
        self.model, self.loss_fn, self.path = model, loss_fn, path
        self.num_context_params = _check_positive_int("num_context_params", num_context_params)
        self.inner_lr = _check_lr("inner_lr", inner_lr)
        self.inner_steps = _check_positive_int("inner_steps", inner_steps)
        self.first_order = bool(first_order)
        first = next((m for m in model.modules() if next(m.parameters(recurse=False), None) is not None), None)
        # The number of data features the model expects, when its first layer tells (a Linear does).
        self.n_features: int | None = None
        if isinstance(first, nn.Linear):
            self.n_features = first.in_features - self.num_context_params
            if self.n_features < 1:
                raise ValueError(
                    f"the model's first layer takes {first.in_features} inputs, too few for "
                    f"num_context_params={num_context_params} plus at least one data feature"
                )
        has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
        self._prefers_vmap = not has_conv and next(model.buffers(), None) is None

    def initial_context(self) -> Tensor:
        """The context every task starts from: zeros of shape ``(num_context_params,)``."""
        p = next(self.model.parameters(), None)
        dtype, device = (p.dtype, p.device) if p is not None else (torch.get_default_dtype(), None)
        return torch.zeros(self.num_context_params, dtype=dtype, device=device)

    def _check_context(self, context: Tensor) -> None:
        if not isinstance(context, Tensor):
            raise TypeError(f"params (the context) must be a Tensor, got {type(context).__name__}")
        if context.shape != (self.num_context_params,):
            raise ValueError(
                f"params (the context) must have shape ({self.num_context_params},), got {tuple(context.shape)}"
            )

    def _check_features(self, x: Tensor, name: str) -> None:
        if x.dim() < 2:
            raise ValueError(f"{name} must be (n_examples, n_features), got shape {tuple(x.shape)}")
        if self.n_features is not None and x.shape[-1] != self.n_features:
            raise ValueError(
                f"{name} has {x.shape[-1]} features per example, but the model expects {self.n_features} "
                f"(its first layer takes {self.n_features + self.num_context_params} inputs, "
                f"{self.num_context_params} of them context)"
            )

    def forward(self, x: Tensor, params: Tensor | None = None) -> Tensor:
        """The model applied to ``x`` with the context ``params`` appended (default: zeros).

        Shapes:
            x: ``(n, n_features)``; params: ``(num_context_params,)`` -> the model's output for ``n`` rows.
        """
        self._check_features(x, "x")
        context = self.initial_context() if params is None else params
        self._check_context(context)
        return self.model(with_context(x, context))

    def _inner(self, x_support: Tensor, y_support: Tensor, context: Tensor, steps: int, task: int | None) -> Tensor:
        outer_grad = torch.is_grad_enabled()
        losses = []
        with torch.enable_grad():
            if not context.requires_grad:
                context = context.detach().requires_grad_()
            for _ in range(steps):
                loss = self.loss_fn(self.model(with_context(x_support, context)), y_support)
                if loss.dim() != 0:
                    raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
                (g,) = torch.autograd.grad(loss, context, create_graph=outer_grad and not self.first_order)
                context = context - self.inner_lr * g
                losses.append(loss.detach())
        _raise_non_finite(torch.stack(losses).unsqueeze(0), task)
        return context if outer_grad else context.detach()

    def adapt(
        self,
        x_support: Tensor,
        y_support: Tensor,
        params: Tensor | None = None,
        inner_steps: int | None = None,
    ) -> Tensor:
        """The task's context after ``inner_steps`` (default: :attr:`inner_steps`) SGD steps.

        Only the context moves; the model's weights are read, never changed. With ``params=None`` the
        context starts from zeros (CAVIA's reset per task); pass a context to continue from it.
        Under ``torch.no_grad()`` the result comes back detached.

        Shapes:
            x_support: ``(n_support, n_features)``; y_support: ``(n_support, *target_shape)``;
            returns ``(num_context_params,)``.
        """
        _check_support(x_support, y_support)
        self._check_features(x_support, "x_support")
        steps = self.inner_steps if inner_steps is None else _check_positive_int("inner_steps", inner_steps)
        context = self.initial_context() if params is None else params
        self._check_context(context)
        return self._inner(x_support, y_support, context, steps, None)

    def meta_loss(self, tasks: Sequence[Task]) -> Tensor:
        """Mean query loss over ``tasks``, each adapted from a zero context; ``.backward()`` gives
        the meta-gradient with respect to the model's weights.

        Raises:
            TypeError, ValueError: see :func:`~metalearn_lite.maml.check_tasks`; ValueError also on
                inputs of the wrong width or a non-finite inner loss (naming the task and the step).
        """
        tasks = check_tasks(tasks)
        for i, task in enumerate(tasks):
            self._check_features(task.x_support, f"tasks[{i}].x_support")
        return self._meta_loss_vmap(tasks) if self.path_for(tasks) == "vmap" else self._meta_loss_loop(tasks)

    def path_for(self, tasks: Sequence[Task]) -> str:
        """The path :meth:`meta_loss` takes for ``tasks``: ``"loop"`` or ``"vmap"``."""
        if self.path != "auto":
            return self.path
        tasks = check_tasks(tasks)
        same_shapes = all(a.shape == b.shape for t in tasks[1:] for a, b in zip(t, tasks[0], strict=True))
        return "vmap" if self._prefers_vmap and same_shapes else "loop"

    def _meta_loss_loop(self, tasks: list[Task]) -> Tensor:
        total = None
        for i, task in enumerate(tasks):
            context = self._inner(task.x_support, task.y_support, self.initial_context(), self.inner_steps, i)
            loss = self.loss_fn(self.model(with_context(task.x_query, context)), task.y_query)
            total = loss if total is None else total + loss
        assert total is not None
        return total / len(tasks)

    def _meta_loss_vmap(self, tasks: list[Task]) -> Tensor:
        batch = stack_tasks(tasks)
        theta = dict(self.model.named_parameters())
        start = self.initial_context()

        def support_loss(context, x_support, y_support):
            return self.loss_fn(functional_call(self.model, theta, (with_context(x_support, context),)), y_support)

        def task_loss(x_support, y_support, x_query, y_query):
            context, inner_losses = start, []
            for _ in range(self.inner_steps):
                g, loss = grad_and_value(support_loss)(context, x_support, y_support)
                context = context - self.inner_lr * (g.detach() if self.first_order else g)
                inner_losses.append(loss.detach())
            query = self.loss_fn(functional_call(self.model, theta, (with_context(x_query, context),)), y_query)
            return query, torch.stack(inner_losses)

        query_losses, inner_losses = vmap(task_loss)(*batch)  # (n_tasks,), (n_tasks, inner_steps)
        _raise_non_finite(inner_losses, task_offset=0)
        return query_losses.mean()
