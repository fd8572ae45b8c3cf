"""CAVIA: fast context adaptation via meta-learning (Zintgraf et al., 2019).

CAVIA splits a network's inputs into the data ``x`` and a small vector of *context parameters*
``φ`` that is concatenated to ``x``. For each task, ``φ`` starts at zero and takes a few SGD steps on
the support loss; the network weights ``θ`` stay fixed in that inner loop and are meta-learned in
the outer loop only, by back-propagating the query loss through the context's inner steps:

    φ_i = 0 - α ∇_φ L_support_i(θ, 0)            (one inner step; more repeat it)
    θ  ← θ - β ∇_θ mean_i L_query_i(θ, φ_i)

So a task is described by a handful of numbers (the paper uses 5 for sinusoids) instead of a full
copy of the weights as in MAML, and because ``φ`` restarts at zero for every task, it cannot carry
anything from one task to the next. The meta-gradient still has second-order terms: through the
inner step, ``∂φ_i/∂θ = -α ∂²L_support/∂φ∂θ``, the *mixed* derivatives of the support loss.
The paper's regression defaults (its code's arguments): context concatenated to the input, inner
learning rate 1.0, one inner step, 5 context parameters, a 1-40-40-1 ReLU network, Adam with 0.001
and 25 tasks per meta-update. (For image classification the paper instead modulates conv features
with FiLM layers driven by ``φ``; that variant is not implemented here.)

The adapted parameters are the dict ``{"context": φ}``, so CAVIA shares MAML's inner loop, paths
and training helpers. Taught in §3.4 (``notebooks/06_adversarial.ipynb``), against MAML on sinusoids.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import checks
from ..tasks import LossFn
from .fast_weights import Params
from .learner import BilevelLearner

__all__ = ["CAVIA", "with_context"]


def with_context(x: Tensor, context: Tensor) -> Tensor:
    """``x`` with the same context vector appended to the features of every example.

    Shapes:
        x: ``(*, n_features)``; context: ``(num_context_params,)`` -> ``(*, n_features + num_context_params)``.
    """
    return torch.cat([x, context.expand(*x.shape[:-1], context.shape[-1])], dim=-1)


class CAVIA(BilevelLearner):
    """CAVIA around ``model``: only a context vector, reset to zero per task, is adapted per task.

    Args:
        model: a network whose input is ``n_features + num_context_params`` wide (the data, then the
            context); its parameters ``θ`` are meta-learned in the outer loop only.
        loss_fn: ``loss_fn(prediction, target) -> scalar`` (e.g. ``F.mse_loss``).
        num_context_params: size of the context vector ``φ`` (the paper: 5 for sinusoids).
        inner_lr: the inner step size ``α`` on ``φ`` (the paper: 1.0 for regression).
        inner_steps: SGD steps on ``φ`` per task (the paper: 1 during meta-training).
        first_order: treat the inner gradients as constants (no second-order terms).
        path: ``"auto"``, ``"loop"`` or ``"vmap"`` (see :mod:`~metalearn_lite.gradient.learner`).

    Raises:
        TypeError, ValueError: a bad argument, or a first linear layer too narrow to take the context.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, num_context_params: int = 5, inner_lr: float = 1.0,
                 inner_steps: int = 1, first_order: bool = False, path: str = "auto") -> None:
        super().__init__(model, loss_fn, inner_lr, inner_steps, first_order, path)
        self.num_context_params = checks.positive_int("num_context_params", num_context_params)
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

    def initial_params(self) -> Params:
        """``{"context": zeros of shape (num_context_params,)}``: where every task starts."""
        p = next(self.model.parameters(), None)
        dtype, device = (p.dtype, p.device) if p is not None else (torch.get_default_dtype(), None)
        return {"context": torch.zeros(self.num_context_params, dtype=dtype, device=device)}

    def apply(self, params: Params, x: Tensor) -> Tensor:
        """The model applied to ``x`` with ``params["context"]`` appended to every example.

        Shapes:
            x: ``(n, n_features)``; ``params["context"]``: ``(num_context_params,)``.
        """
        context = params.get("context") if isinstance(params, dict) else None
        if not isinstance(context, Tensor) or context.shape != (self.num_context_params,):
            got = type(params).__name__ if context is None else tuple(context.shape)
            raise ValueError(f"params must be {{'context': tensor of shape ({self.num_context_params},)}}, got {got}")
        return self.model(with_context(x, context))

    def check_data(self, name: str, x: Tensor) -> None:
        """Also refuse inputs whose width is not the model's data width."""
        super().check_data(name, x)
        if x.dim() < 2:
            raise ValueError(f"{name} must be (n_examples, n_features), got shape {tuple(x.shape)}")
        if self.n_features is not None and x.shape[-1] != self.n_features:
            raise ValueError(
                f"{name} has {x.shape[-1]} features per example, but the model expects {self.n_features} "
                f"(its first layer takes {self.n_features + self.num_context_params} inputs, "
                f"{self.num_context_params} of them context)"
            )
