"""MAML (Finn et al., 2017), first-order MAML and Meta-SGD (Li et al., 2017).

MAML learns an initialisation ``θ`` such that a few SGD steps on a task's support set give fast
weights ``φ`` that do well on the task's query set. Its meta-gradient is
``∇_θ L_query(φ(θ))``; for one inner step ``φ = θ - α ∇L_support(θ)`` it equals
``(I - α ∇²L_support(θ)) ∇L_query(φ)``, so it contains a Hessian. ``first_order=True`` drops that
factor (first-order MAML); ``learn_inner_lr=True`` also meta-learns one inner learning rate per
weight (Meta-SGD). The inner loop is the package's one kernel
(:func:`~metalearn_lite.gradient.fast_weights.adapt`); the loop and vmap paths of the meta-loss
come from :class:`~metalearn_lite.gradient.learner.BilevelLearner`.

Taught in §3.3 (``notebooks/05_gradient_based.ipynb``); derived and checked against finite
differences in §4.1 (``notebooks/07_maml_from_scratch.ipynb``).
"""

from __future__ import annotations

from torch import nn

from .. import checks
from ..tasks import LossFn
from .learner import BilevelLearner

__all__ = ["MAML"]


class MAML(BilevelLearner):
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
        path: ``"auto"``, ``"loop"`` or ``"vmap"`` (see :mod:`~metalearn_lite.gradient.learner`).

    Raises:
        TypeError, ValueError: a bad argument, named in the message.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, inner_lr: float, inner_steps: int = 1,
                 first_order: bool = False, learn_inner_lr: bool = False, path: str = "auto") -> None:
        super().__init__(model, loss_fn, inner_lr, inner_steps, first_order, path)
        if checks.boolean("learn_inner_lr", learn_inner_lr):
            self._learn_inner_lrs()
