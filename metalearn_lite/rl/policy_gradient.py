"""Policy-gradient surrogates: losses whose gradient is the REINFORCE estimate of ∇ expected return.

For trajectories sampled from ``π_θ``, the score-function (REINFORCE) estimator of the gradient of
the expected return is ``mean_t ∇ log π_θ(a_t | s_t) · A_t`` with advantages ``A_t = G_t − b(s_t)``
(Williams 1992). Automatic differentiation produces it from a *surrogate*:

* ``"reinforce"``: ``L = −mean_t log π_θ(a_t|s_t) · A_t``. Its gradient is the estimator, but its
  Hessian is only ``E[∇² log π · A]``: it misses the term ``E[∇ log π ∇ log π^T · A]`` that comes
  from the sampling distribution depending on θ. MAML's original code differentiated through
  this surrogate, so its meta-gradient gives the pre-update sampling distribution no credit.
* ``"lvc"``: the low-variance curvature surrogate of ProMP (Rothfuss et al. 2019, eq. 7),
  ``L = −mean_t π_θ(a_t|s_t) / ⊥π_θ(a_t|s_t) · A_t`` where ⊥ stops gradients. Its value and
  gradient equal the ones above, but its Hessian contains the missing outer-product term per
  time step, so a second-order meta-gradient through it assigns credit to the pre-update policy.

The averages run over the valid steps of each task's batch (the normalisation of the authors'
code), and advantages are normalised per task to mean 0 and standard deviation 1 by default
(rllab's ``center_adv``), which makes a fixed inner learning rate meaningful across tasks.

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from .. import checks
from .returns import discounted_returns
from .rollout import Trajectories
from .value_baseline import linear_feature_baseline

__all__ = ["ESTIMATORS", "compute_advantages", "surrogate_loss"]

Estimator = Literal["reinforce", "lvc"]
ESTIMATORS = ("reinforce", "lvc")
Reduction = Literal["mean", "sum", "none"]


def compute_advantages(trajectories: Trajectories, discount: float = 0.99, baseline: bool = True,
                       normalize: bool = True, eps: float = 1e-8) -> Tensor:
    """Advantages ``G_t − b(s_t, t)`` per step, detached (they are data, not functions of θ).

    Args:
        trajectories: a batch from :func:`~metalearn_lite.rl.rollout.rollout`.
        discount: γ of the returns-to-go.
        baseline: subtract the linear feature baseline fitted per task (else no baseline).
        normalize: rescale each task's advantages over its valid steps to mean 0, std 1.

    Shapes:
        returns ``(n_tasks, n_traj, horizon)``, zero on masked steps.
    """
    checks.boolean("baseline", baseline)
    checks.boolean("normalize", normalize)
    checks.probability("discount", discount)
    mask = trajectories.mask
    returns = discounted_returns(trajectories.rewards, mask, discount)
    advantages = returns
    if baseline:
        advantages = returns - linear_feature_baseline(trajectories.states, returns, mask)
    if normalize:
        dims = tuple(range(1, mask.dim()))
        count = mask.sum(dim=dims, keepdim=True).clamp(min=1.0)
        mean = (advantages * mask).sum(dim=dims, keepdim=True) / count
        var = ((advantages - mean).pow(2) * mask).sum(dim=dims, keepdim=True) / count
        advantages = (advantages - mean) / (var.sqrt() + eps)
    return (advantages * mask).detach()


def surrogate_loss(log_probs: Tensor, advantages: Tensor, mask: Tensor | None = None,
                   estimator: Estimator = "reinforce", reduction: Reduction = "mean") -> Tensor:
    """Minus the policy-gradient surrogate, averaged over each task's valid steps.

    Args:
        log_probs: ``log π_θ(a_t | s_t)`` of the sampled actions, differentiable in θ.
        advantages: the weights ``A_t`` (no gradient flows into them).
        mask: 1.0 for valid steps (default: all).
        estimator: ``"reinforce"`` (MAML's original) or ``"lvc"`` (ProMP); same value and gradient,
            different Hessians (see the module docstring).
        reduction: ``"none"`` gives one loss per task, ``"mean"`` / ``"sum"`` reduce over tasks.

    Shapes:
        log_probs, advantages, mask: ``(n_tasks, ...)`` → ``(n_tasks,)`` or ``()``
    """
    checks.one_of("estimator", estimator, ESTIMATORS)
    checks.one_of("reduction", reduction, ("mean", "sum", "none"))
    checks.tensor("log_probs", log_probs, floating=True)
    checks.tensor("advantages", advantages, floating=True)
    if log_probs.shape != advantages.shape:
        raise ValueError(f"log_probs {tuple(log_probs.shape)} and advantages {tuple(advantages.shape)} "
                         "must have the same shape")
    if log_probs.dim() < 1:
        raise ValueError("log_probs must have a leading n_tasks dimension, got a scalar")
    mask = torch.ones_like(advantages) if mask is None else mask
    if mask.shape != log_probs.shape:
        raise ValueError(f"mask must have shape {tuple(log_probs.shape)}, got {tuple(mask.shape)}")
    if estimator == "reinforce":
        weighted = log_probs * advantages.detach()
    else:
        weighted = torch.exp(log_probs - log_probs.detach()) * advantages.detach()
    dims = tuple(range(1, log_probs.dim()))
    if dims:
        per_task = -(weighted * mask).sum(dim=dims) / mask.sum(dim=dims).clamp(min=1.0)
    else:  # one step per task
        per_task = -(weighted * mask)
    if reduction == "none":
        return per_task
    return per_task.mean() if reduction == "mean" else per_task.sum()
