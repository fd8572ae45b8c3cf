"""What MAML, ANIL, CAVIA and Reptile share: adapt some parameters to a task, then judge them.

:class:`GradientLearner` holds a network, a loss and the inner-loop settings, and adapts with the
kernel of :mod:`~metalearn_lite.gradient.fast_weights`. A subclass says only *which* parameters
are adapted (:meth:`GradientLearner.initial_params`) and *how* the network uses them
(:meth:`GradientLearner.apply`). :class:`BilevelLearner` adds the meta-objective
``mean_i L_query_i(adapt_i(θ))`` (:meth:`BilevelLearner.meta_loss`), computed on one of two paths
that give the same numbers (``tests/test_maml.py`` and ``tests/test_cavia.py`` check values and
gradients against each other and against finite differences):

* ``"loop"``: one task after another. When gradients are enabled each task's query loss is
  back-propagated as soon as it is computed, so memory holds one task's graph at a time; the
  returned scalar carries the summed meta-gradient, which ``.backward()`` or
  ``torch.autograd.grad`` deliver (it cannot be differentiated twice).
* ``"vmap"``: all tasks at once with ``torch.func.vmap``; one graph.

``path="auto"`` lets :func:`~metalearn_lite.gradient.fast_weights.choose_path` decide. Taught in
§3.3 (``notebooks/05_gradient_based.ipynb``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, vmap

from .. import checks
from ..tasks import Task, stack_tasks
from .curves import adaptation_curve
from .fast_weights import PATHS, LossOfParams, Params, adapt, choose_path

__all__ = ["BilevelLearner", "GradientLearner"]


class _CarriedGradient(torch.autograd.Function):
    """A scalar whose gradient with respect to ``params`` was computed already (the loop path)."""

    @staticmethod
    def forward(ctx, value: Tensor, grads: tuple[Tensor | None, ...], *params: Tensor) -> Tensor:
        ctx.grads = grads
        return value.clone()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        if torch.is_grad_enabled():
            raise RuntimeError("the loop path of meta_loss cannot be differentiated twice; use path='vmap'")
        return (None, None, *(None if g is None else grad_output * g for g in ctx.grads))


class GradientLearner(nn.Module):
    """A network whose parameters (or some of them) are adapted to each task by inner SGD steps.

    Args:
        model: the network; its parameters are meta-learned.
        loss_fn: ``loss_fn(prediction, target) -> scalar`` (``F.mse_loss``, ``F.cross_entropy`` ...).
        inner_lr: the inner step size ``α``.
        inner_steps: inner SGD steps per task.
        first_order: drop the second-order terms of the meta-gradient.
        path: ``"auto"``, ``"loop"`` or ``"vmap"`` (see the module docstring).

    Raises:
        TypeError, ValueError: a bad argument, named in the message.
    """

    # Take the inner gradients with torch.func even on the loop path: they are then partial derivatives
    # with respect to the start's values, not total ones through how a start was computed (Proto-MAML).
    functional_inner = False

    def __init__(self, model: nn.Module, loss_fn: object, inner_lr: float, inner_steps: int = 1,
                 first_order: bool = False, path: str = "auto") -> None:
        super().__init__()
        self.model = checks.module("model", model)
        self.loss_fn = checks.callable_("loss_fn", loss_fn)
        self.inner_lr = checks.positive_number("inner_lr", inner_lr)
        self.inner_steps = checks.positive_int("inner_steps", inner_steps)
        self.first_order = checks.boolean("first_order", first_order)
        self.path = checks.one_of("path", path, PATHS)
        self.learn_inner_lr = False
        self.inner_lrs = nn.ParameterList()

    def _learn_inner_lrs(self) -> None:
        """Meta-learn one inner step size per adapted entry (Meta-SGD), initialised to ``inner_lr``."""
        self.learn_inner_lr = True
        self.inner_lrs = nn.ParameterList(
            [nn.Parameter(torch.full_like(v.detach(), self.inner_lr)) for v in self.initial_params().values()]
        )

    def initial_params(self) -> Params:
        """The adapted parameters before adaptation (default: all of the model's, ``θ``)."""
        return dict(self.model.named_parameters())

    def apply(self, params: Params, x: Tensor) -> Tensor:
        """The network's prediction for ``x`` with the adapted parameters ``params``."""
        return functional_call(self.model, params, (x,))

    def forward(self, x: Tensor, params: Params | None = None) -> Tensor:
        """The prediction for ``x`` with ``params`` (default: :meth:`initial_params`, no adaptation)."""
        checks.tensor("x", x)
        self.check_data("x", x)
        return self.apply(self.initial_params() if params is None else self.check_params(params), x)

    def check_params(self, params: object) -> Params:
        """``params`` if it is a dict with the names and shapes of :meth:`initial_params`."""
        expected = self.initial_params()
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict with the keys {sorted(expected)}, got {type(params).__name__}")
        if set(params) != set(expected):
            raise ValueError(f"params must be a dict with the keys {sorted(expected)}, got {sorted(params)}")
        for name, value in params.items():
            if not isinstance(value, Tensor) or value.shape != expected[name].shape:
                shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"params[{name!r}] must have shape {tuple(expected[name].shape)}, got {shape}")
        return params

    def inner_lrs_by_name(self) -> float | Params:
        """``α``: one number, or with Meta-SGD the learned tensor of each adapted entry."""
        if not self.learn_inner_lr:
            return self.inner_lr
        return dict(zip(self.initial_params(), self.inner_lrs, strict=True))

    def support_loss(self, params: Params, x: Tensor, y: Tensor) -> Tensor:
        """``loss_fn(apply(params, x), y)``, the loss the inner loop descends."""
        return self.loss_fn(self.apply(params, x), y)

    def task_start(self, x_support: Tensor, y_support: Tensor) -> Params:
        """Where a task's inner loop starts: :meth:`initial_params`, the same for every task by default.

        Proto-MAML overrides it with a head built from the task's support set.
        """
        return self.initial_params()

    def support_objective(self, x: Tensor, y: Tensor) -> LossOfParams:
        """The support loss of one task as a function of the adapted parameters, what :func:`adapt` descends.

        By default ``params -> support_loss(params, x, y)``; a learner that can compute part of the
        network once per task instead of once per inner step (ANIL: the body) overrides it.
        """
        return lambda params: self.support_loss(params, x, y)

    def check_data(self, name: str, x: Tensor) -> None:
        """Refuse data whose dtype or device disagrees with the model, naming ``name``."""
        checks.matches_model(name, x, self.model)

    def _classifies(self, y: Tensor) -> bool:
        """Whether ``loss_fn`` reads ``y`` as indices into the model's outputs (cross-entropy, NLL)."""
        return self.loss_fn in (F.cross_entropy, F.nll_loss) and not y.dtype.is_floating_point and y.dim() == 1

    def check_labels(self, tasks: Sequence[Task]) -> None:
        """With ``F.cross_entropy`` or ``F.nll_loss``, refuse labels outside the model's outputs.

        One forward pass on the first task's support set tells the number of outputs; without this
        check an out-of-range label surfaces as an indexing error deep inside ``vmap``. Other losses
        (MetaGAN's fake class, say) define their own label range and check it themselves.
        """
        if not self._classifies(tasks[0].y_support):
            return
        with torch.no_grad():
            width = self.apply(self.initial_params(), tasks[0].x_support).shape[-1]
        for i, task in enumerate(tasks):
            checks.labels(f"tasks[{i}].y_support", task.y_support, width)
            checks.labels(f"tasks[{i}].y_query", task.y_query, width)

    def adapt_loss(
        self, loss_of_params: LossOfParams, params: Params | None = None, inner_steps: int | None = None,
        task: int | None = None,
    ) -> Params:
        """Fast weights after inner steps on any loss of the parameters (the kernel's :func:`adapt`).

        Args:
            loss_of_params: the support loss as a function of the adapted parameters.
            params: where to start (default: :meth:`initial_params`).
            inner_steps: default :attr:`inner_steps`.
            task: the task's index, named in the error raised on a non-finite inner loss.
        """
        checks.callable_("loss_of_params", loss_of_params)
        steps = self.inner_steps if inner_steps is None else checks.positive_int("inner_steps", inner_steps)
        start = self.initial_params() if params is None else self.check_params(params)
        fast, losses = adapt(loss_of_params, start, self.inner_lrs_by_name(), steps, first_order=self.first_order,
                             functional=self.functional_inner)
        checks.raise_if_non_finite(losses[None], "inner (support) loss", first_task=task)
        return fast if torch.is_grad_enabled() else {k: v.detach() for k, v in fast.items()}

    def adapt(
        self, x_support: Tensor, y_support: Tensor, params: Params | None = None, inner_steps: int | None = None
    ) -> Params:
        """Fast weights after ``inner_steps`` (default: :attr:`inner_steps`) SGD steps on the support set.

        With ``first_order=False`` and gradients enabled the result can be differentiated twice;
        under ``torch.no_grad()`` it comes back detached.

        Shapes:
            x_support: ``(n_support, *input_shape)``; y_support: ``(n_support, *target_shape)``.
        """
        checks.support_set(x_support, y_support)
        self.check_data("x_support", x_support)
        if self._classifies(y_support):
            with torch.no_grad():
                width = self.apply(self.initial_params() if params is None else params, x_support).shape[-1]
            checks.labels("y_support", y_support, width)
        start = self.task_start(x_support, y_support) if params is None else params
        return self.adapt_loss(self.support_objective(x_support, y_support), start, inner_steps)

    def adaptation_curve(self, tasks: Sequence[Task], max_inner_steps: int) -> Tensor:
        """Query losses after 0 .. ``max_inner_steps`` inner steps (:func:`.curves.adaptation_curve`)."""
        return adaptation_curve(self, tasks, max_inner_steps)

    def adapt_each(self, x_support: Tensor, y_support: Tensor) -> Params:
        """Detached fast weights for each of a batch of support sets (for scoring, not meta-training).

        Tasks are batched with ``vmap`` when :meth:`path_for` would, else adapted one by one.

        Shapes:
            x_support: ``(n_tasks, n_support, *input_shape)``; y_support: ``(n_tasks, n_support, ...)``
            -> each entry ``(n_tasks, *param_shape)``.
        """
        start = {k: v.detach() for k, v in self.initial_params().items()}
        lrs = self.inner_lrs_by_name()
        lrs = lrs if isinstance(lrs, float) else {k: v.detach() for k, v in lrs.items()}
        tasks = [Task(x, y, x[:0], y[:0]) for x, y in zip(x_support, y_support, strict=True)]
        if choose_path(self.path, self.model, tasks) == "vmap":
            def one(x: Tensor, y: Tensor) -> tuple[Params, Tensor]:
                return adapt(self.support_objective(x, y), start, lrs, self.inner_steps,
                             first_order=True, functional=True)

            fast, losses = vmap(one)(x_support, y_support)
        else:
            with torch.no_grad():
                pairs = [adapt(self.support_objective(t.x_support, t.y_support), start, lrs,
                               self.inner_steps, first_order=True) for t in tasks]
            fast = {k: torch.stack([f[k] for f, _ in pairs]) for k in start}
            losses = torch.stack([losses for _, losses in pairs])
        checks.raise_if_non_finite(losses, "inner (support) loss")
        return {k: v.detach() for k, v in fast.items()}


class BilevelLearner(GradientLearner):
    """A :class:`GradientLearner` trained on the query loss after adaptation (MAML, ANIL, CAVIA)."""

    def meta_loss(self, tasks: Sequence[Task]) -> Tensor:
        """Mean query loss after adaptation over ``tasks``; ``.backward()`` gives the meta-gradient.

        The gradient reaches every parameter of this module (the network's and, with Meta-SGD,
        :attr:`inner_lrs`).

        Raises:
            TypeError, ValueError: bad tasks (see :func:`~metalearn_lite.checks.check_tasks`), or
                data whose dtype or device differs from the model's.
            NonFiniteLossError: a non-finite inner or query loss, naming the task (and inner step).
        """
        tasks = checks.check_tasks(tasks)
        for i, task in enumerate(tasks):
            self.check_data(f"tasks[{i}].x_support", task.x_support)
        self.check_labels(tasks)
        return self._meta_loss(tasks)

    def _meta_loss(self, tasks: list[Task]) -> Tensor:
        """:meth:`meta_loss` on tasks the caller has validated already (checked once per meta-step)."""
        path = choose_path(self.path, self.model, tasks)
        return self._meta_loss_vmap(tasks) if path == "vmap" else self._meta_loss_loop(tasks)

    def path_for(self, tasks: Sequence[Task]) -> str:
        """The path :meth:`meta_loss` takes for ``tasks``: ``"loop"`` or ``"vmap"``."""
        return choose_path(self.path, self.model, checks.check_tasks(tasks))

    def _task_loss(self, task: Task, functional: bool) -> tuple[Tensor, Tensor]:
        fast, inner = adapt(self.support_objective(task.x_support, task.y_support),
                            self.task_start(task.x_support, task.y_support), self.inner_lrs_by_name(),
                            self.inner_steps, first_order=self.first_order,
                            functional=functional or self.functional_inner)
        return self.loss_fn(self.apply(fast, task.x_query), task.y_query), inner

    def _meta_loss_loop(self, tasks: list[Task]) -> Tensor:
        meta_params = [p for p in self.parameters() if p.requires_grad]
        carry = torch.is_grad_enabled() and len(meta_params) > 0
        total: Tensor | None = None
        summed: list[Tensor | None] = [None] * len(meta_params)
        for i, task in enumerate(tasks):
            loss, inner = self._task_loss(task, functional=False)
            checks.raise_if_non_finite(inner[None], "inner (support) loss", first_task=i)
            checks.finite_loss(loss, f"the query loss of task {i}")
            loss = loss / len(tasks)
            if carry:  # back-propagate this task now and free its graph
                grads = torch.autograd.grad(loss, meta_params, allow_unused=True)
                summed = [s if g is None else g if s is None else s + g for s, g in zip(summed, grads, strict=True)]
                loss = loss.detach()
            total = loss if total is None else total + loss
        assert total is not None
        return _CarriedGradient.apply(total, tuple(summed), *meta_params) if carry else total

    def _meta_loss_vmap(self, tasks: list[Task]) -> Tensor:
        query, inner = vmap(lambda *fields: self._task_loss(Task(*fields), functional=True))(*stack_tasks(tasks))
        checks.raise_if_non_finite(inner, "inner (support) loss")  # (n_tasks, inner_steps)
        checks.raise_if_non_finite(query, "query loss")
        return query.mean()
