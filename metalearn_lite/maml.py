"""MAML (Finn et al., 2017), first-order MAML and Meta-SGD (Li et al., 2017).

MAML learns an initialisation ``θ`` such that a few SGD steps on a task's support set give fast
weights ``φ`` that do well on the task's query set. Its meta-gradient is
``∇_θ L_query(φ(θ))``; for one inner step ``φ = θ - α ∇L_support(θ)`` it equals
``(I - α ∇²L_support(θ)) ∇L_query(φ)``, so it contains a Hessian. ``first_order=True`` drops that
factor (first-order MAML); ``learn_inner_lr=True`` also meta-learns one inner learning rate per
weight (Meta-SGD). Chapter 3.3 teaches the algorithms, chapter 4.1 derives and checks them.

Fast weights are a ``dict[str, Tensor]`` applied with ``torch.func.functional_call``: no module is
cloned and nothing is stored on tensors.

Two execution paths compute the same numbers (``tests/test_maml.py`` checks values and gradients):

* ``"loop"``: one task after another with ``torch.autograd.grad``. When gradients are enabled,
  each task's query loss is back-propagated as soon as it is computed, so memory holds one task's
  graph at a time; the returned scalar carries the accumulated meta-gradient, which
  ``.backward()`` or ``torch.autograd.grad`` deliver (it cannot be differentiated twice).
* ``"vmap"``: all tasks at once with ``torch.func.vmap`` over ``torch.func.grad``; one graph.

``path="auto"`` (the default) picks ``"vmap"`` for models without convolutions or buffers (the
sinusoid MLP: about 6x faster than the loop, where per-task overhead dominates) and ``"loop"``
otherwise (the Omniglot ConvNet4: vmap was about 3x slower and peaked at 4 GB instead of 0.5 GB),
and also ``"loop"`` when tasks differ in shape. ``benchmarks/maml_step.py`` measures both
(torch 2.13, one CPU thread); ``MAML.path_for(tasks)`` tells which path runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, vmap

from .tasks import Task, stack_tasks

__all__ = ["MAML", "inner_sgd", "check_tasks"]

PATHS = ("auto", "loop", "vmap")
LossFn = Callable[[Tensor, Tensor], Tensor]


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _check_model_and_loss(model: object, loss_fn: object) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")


def _check_lr(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_support(x_support: Tensor, y_support: Tensor, where: str = "") -> None:
    for name, t in (("x_support", x_support), ("y_support", y_support)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}{name} must be a Tensor, got {type(t).__name__}")
    if x_support.dim() == 0 or x_support.shape[0] == 0:
        raise ValueError(f"{where}x_support must hold at least one example, got shape {tuple(x_support.shape)}")
    if y_support.dim() == 0 or y_support.shape[0] != x_support.shape[0]:
        raise ValueError(
            f"{where}y_support must have one row per x_support example ({x_support.shape[0]}), "
            f"got shape {tuple(y_support.shape)}"
        )


def check_tasks(tasks: Sequence[Task]) -> list[Task]:
    """Validate a non-empty sequence of tasks and return it as a list.

    Raises:
        TypeError: ``tasks`` is not a sequence of 4-tuples of tensors.
        ValueError: it is empty, or a task's support and query shapes disagree.
    """
    if isinstance(tasks, Tensor) or not isinstance(tasks, Sequence):
        raise TypeError(f"tasks must be a sequence of Task, got {type(tasks).__name__}")
    if len(tasks) == 0:
        raise ValueError("tasks must be a non-empty sequence of Task, got an empty one")
    checked = []
    for i, task in enumerate(tasks):
        if not isinstance(task, tuple) or len(task) != 4:
            raise TypeError(
                f"tasks[{i}] must be a Task (x_support, y_support, x_query, y_query), got {type(task).__name__}"
            )
        task = Task(*task)
        where = f"tasks[{i}]."
        _check_support(task.x_support, task.y_support, where)
        for name in ("x_query", "y_query"):
            if not isinstance(getattr(task, name), Tensor):
                raise TypeError(f"{where}{name} must be a Tensor, got {type(getattr(task, name)).__name__}")
        if task.x_query.shape[1:] != task.x_support.shape[1:]:
            raise ValueError(
                f"{where}x_query examples must have the shape of x_support examples "
                f"{tuple(task.x_support.shape[1:])}, got {tuple(task.x_query.shape[1:])}"
            )
        if task.y_query.dim() == 0 or task.y_query.shape[0] != task.x_query.shape[0]:
            raise ValueError(
                f"{where}y_query must have one row per x_query example ({task.x_query.shape[0]}), "
                f"got shape {tuple(task.y_query.shape)}"
            )
        if task.y_query.shape[1:] != task.y_support.shape[1:]:
            raise ValueError(
                f"{where}y_query targets must have the shape of y_support targets "
                f"{tuple(task.y_support.shape[1:])}, got {tuple(task.y_query.shape[1:])}"
            )
        checked.append(task)
    return checked


def _raise_non_finite(losses: Tensor, task_offset: int | None) -> None:
    """``losses``: ``(n_tasks, inner_steps)`` inner losses; raise on the first non-finite one."""
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        task, step = (int(v) for v in bad[0])
        which = "the task" if task_offset is None else f"task {task + task_offset}"
        raise ValueError(
            f"the inner (support) loss of {which} at inner step {step} is {losses[task, step].item()}; "
            "lower inner_lr or check the task's data"
        )


def inner_sgd(
    model: nn.Module,
    loss_fn: LossFn,
    params: dict[str, Tensor],
    x_support: Tensor,
    y_support: Tensor,
    inner_lr: float | dict[str, Tensor],
    inner_steps: int,
    create_graph: bool,
    task_index: int | None = None,
) -> dict[str, Tensor]:
    """``inner_steps`` steps of ``φ ← φ - α ∇_φ loss_fn(model_φ(x_support), y_support)`` from ``params``.

    The functional inner loop shared by :class:`MAML` (loop path) and :class:`~metalearn_lite.Reptile`.

    Args:
        params: the starting weights, by parameter name (every entry is adapted).
        inner_lr: one learning rate, or one tensor per parameter name (Meta-SGD).
        create_graph: keep the graph of each inner gradient, so that the result can be
            differentiated twice (second-order MAML); ``False`` treats the gradients as constants.
        task_index: named in the error raised on a non-finite inner loss.

    Returns:
        The fast weights; differentiable with respect to ``params`` when gradients are enabled.

    Shapes:
        x_support: ``(n_support, *input_shape)``; y_support: ``(n_support, *target_shape)``.
    """
    outer_grad = torch.is_grad_enabled()
    losses = []
    with torch.enable_grad():
        fast = {k: v if v.requires_grad else v.detach().requires_grad_() for k, v in params.items()}
        for _ in range(inner_steps):
            loss = loss_fn(functional_call(model, fast, (x_support,)), y_support)
            if loss.dim() != 0:
                raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph and outer_grad)
            lrs = inner_lr if isinstance(inner_lr, dict) else dict.fromkeys(fast, inner_lr)
            fast = {k: v - lrs[k] * g for (k, v), g in zip(fast.items(), grads, strict=True)}
            losses.append(loss.detach())
    _raise_non_finite(torch.stack(losses).unsqueeze(0), task_index)
    return fast if outer_grad else {k: v.detach() for k, v in fast.items()}


class _CarriedGradient(torch.autograd.Function):
    """A scalar whose gradient with respect to ``params`` was computed already (the loop path)."""

    @staticmethod
    def forward(ctx, value: Tensor, grads: tuple[Tensor | None, ...], *params: Tensor) -> Tensor:
        ctx.grads = grads
        return value.clone()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        if torch.is_grad_enabled():
            raise RuntimeError("MAML's loop path cannot be differentiated twice; use path='vmap'")
        return (None, None, *(None if g is None else grad_output * g for g in ctx.grads))


class MAML(nn.Module):
    """Model-agnostic meta-learning around ``model``; also first-order MAML and Meta-SGD.

    Args:
        model: any ``nn.Module`` (its parameters are ``θ``, the learned initialisation).
        loss_fn: ``loss_fn(prediction, target) -> scalar`` (e.g. ``F.mse_loss``, ``F.cross_entropy``).
        inner_lr: the inner step size ``α`` (the paper: 0.01 for sinusoids, 0.4 for Omniglot).
        inner_steps: SGD steps on the support set (the paper: 1 for sinusoids at training time).
        first_order: drop the second-order terms of the meta-gradient (first-order MAML).
        learn_inner_lr: meta-learn one inner learning rate per weight, initialised to ``inner_lr``
            (Meta-SGD, Li et al., 2017); they are in :attr:`inner_lrs`, aligned with
            ``model.named_parameters()``, and among this module's parameters.
        path: ``"auto"``, ``"loop"`` or ``"vmap"`` (see the module docstring).

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``loss_fn`` is not callable.
        ValueError: ``inner_lr <= 0``, ``inner_steps < 1`` or an unknown ``path``.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        inner_lr: float,
        inner_steps: int = 1,
        first_order: bool = False,
        learn_inner_lr: bool = False,
        path: str = "auto",
    ) -> None:
        super().__init__()
        _check_model_and_loss(model, loss_fn)
        if path not in PATHS:
            raise ValueError(f"path must be one of {PATHS}, got {path!r}")
        self.model, self.loss_fn, self.path = model, loss_fn, path
        self.inner_lr = _check_lr("inner_lr", inner_lr)
        self.inner_steps = _check_positive_int("inner_steps", inner_steps)
        self.first_order, self.learn_inner_lr = bool(first_order), bool(learn_inner_lr)
        self._names = [name for name, _ in model.named_parameters()]
        self.inner_lrs = nn.ParameterList(
            [nn.Parameter(torch.full_like(p.detach(), self.inner_lr)) for p in model.parameters()]
            if learn_inner_lr
            else []
        )
        has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
        self._prefers_vmap = not has_conv and next(model.buffers(), None) is None

    def _lrs(self) -> float | dict[str, Tensor]:
        return dict(zip(self._names, self.inner_lrs, strict=True)) if self.learn_inner_lr else self.inner_lr

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
        """Fast weights after ``inner_steps`` (default: :attr:`inner_steps`) SGD steps from ``params``.

        With ``first_order=False`` the inner gradients keep their graph, so the fast weights can be
        differentiated twice; under ``torch.no_grad()`` the fast weights come back detached.

        Shapes:
            x_support: ``(n_support, *input_shape)``; y_support: ``(n_support, *target_shape)``.
        """
        _check_support(x_support, y_support)
        steps = self.inner_steps if inner_steps is None else _check_positive_int("inner_steps", inner_steps)
        params = dict(self.model.named_parameters()) if params is None else params
        return inner_sgd(
            self.model, self.loss_fn, params, x_support, y_support, self._lrs(), steps, not self.first_order
        )

    def meta_loss(self, tasks: Sequence[Task]) -> Tensor:
        """Mean query loss after adaptation over ``tasks``; ``.backward()`` gives the meta-gradient.

        The gradient reaches the model's parameters and, with ``learn_inner_lr``, :attr:`inner_lrs`.

        Raises:
            TypeError, ValueError: see :func:`check_tasks`; ValueError also on a non-finite inner
                loss (naming the task and the inner step).
        """
        tasks = check_tasks(tasks)
        path = self.path_for(tasks)
        return self._meta_loss_vmap(tasks) if path == "vmap" else self._meta_loss_loop(tasks)

    def path_for(self, tasks: Sequence[Task]) -> str:
        """The path :meth:`meta_loss` takes for ``tasks``: ``"loop"`` or ``"vmap"``.

        ``path="auto"`` gives ``"vmap"`` when the model has no convolution and no buffer and all
        tasks have the same shapes, else ``"loop"`` (see the module docstring for the measurements).
        """
        if self.path != "auto":
            return self.path
        tasks = check_tasks(tasks)
        same_shapes = all(a.shape == b.shape for t in tasks[1:] for a, b in zip(t, tasks[0], strict=True))
        return "vmap" if self._prefers_vmap and same_shapes else "loop"

    def _meta_loss_loop(self, tasks: list[Task]) -> Tensor:
        meta_params = [p for p in self.parameters() if p.requires_grad]
        carry = torch.is_grad_enabled() and len(meta_params) > 0
        theta = dict(self.model.named_parameters())
        total: Tensor | None = None
        summed: list[Tensor | None] = [None] * len(meta_params)
        for i, task in enumerate(tasks):
            fast = inner_sgd(
                self.model, self.loss_fn, theta, task.x_support, task.y_support, self._lrs(),
                self.inner_steps, not self.first_order, task_index=i,
            )
            loss = self.loss_fn(functional_call(self.model, fast, (task.x_query,)), task.y_query) / len(tasks)
            if carry:  # back-propagate this task now and free its graph
                grads = torch.autograd.grad(loss, meta_params, allow_unused=True)
                summed = [s if g is None else g if s is None else s + g for s, g in zip(summed, grads, strict=True)]
                loss = loss.detach()
            total = loss if total is None else total + loss
        assert total is not None
        return _CarriedGradient.apply(total, tuple(summed), *meta_params) if carry else total

    def _meta_loss_vmap(self, tasks: list[Task]) -> Tensor:
        batch = stack_tasks(tasks)
        theta = dict(self.model.named_parameters())
        lrs = self._lrs()
        lrs = lrs if isinstance(lrs, dict) else dict.fromkeys(theta, lrs)

        def support_loss(params, x_support, y_support):
            return self.loss_fn(functional_call(self.model, params, (x_support,)), y_support)

        def task_loss(x_support, y_support, x_query, y_query):
            fast, inner_losses = theta, []
            for _ in range(self.inner_steps):
                grads, loss = grad_and_value(support_loss)(fast, x_support, y_support)
                if self.first_order:
                    grads = {k: g.detach() for k, g in grads.items()}
                fast = {k: v - lrs[k] * grads[k] for k, v in fast.items()}
                inner_losses.append(loss.detach())
            query = self.loss_fn(functional_call(self.model, fast, (x_query,)), y_query)
            return query, torch.stack(inner_losses)

        query_losses, inner_losses = vmap(task_loss)(*batch)  # (n_tasks,), (n_tasks, inner_steps)
        _raise_non_finite(inner_losses, task_offset=0)
        return query_losses.mean()
