"""MAML for reinforcement learning: one policy-gradient step per task, judged by fresh episodes.

The meta-objective of Finn et al. (2017, §3.2 and Algorithm 3) for a task ``T_i`` is the expected
return of the *adapted* policy,

    θ'_i = θ + α ∇_θ Ĵ_i(θ)          (REINFORCE on n_traj episodes sampled with π_θ)
    max_θ  Σ_i E_{τ' ~ π_θ'_i}[R_i(τ')]   (estimated with n_traj new episodes sampled with π_θ'_i).

:func:`adapt_policy` is the inner step for a whole batch of tasks at once: the shared parameters
are *expanded* to a leading task dimension (a view, no copy), every task's surrogate is evaluated
with ``torch.func.vmap`` over ``functional_call``, and one ``torch.autograd.grad`` call returns
one gradient per task, because each slice of the expanded view feeds only its own task's loss.
With ``first_order=False`` the step is taken with ``create_graph=True`` so that the outer gradient
flows through it (the Hessian-vector products of exact MAML); with ``True`` the inner gradient is
a constant and the meta-gradient is the post-update policy gradient (first-order MAML).

:func:`maml_rl_loss` samples, adapts, samples again with the adapted weights and returns the
outer surrogate whose ``backward()`` gives the meta-gradient. The paper maximised it with TRPO;
this package uses Adam on the plain surrogate (chapter 4.3 says why).

Taught in chapter 4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .navigation import Navigation2D
from .policy import apply_policy, gaussian_log_prob
from .policy_gradient import Estimator, compute_advantages, surrogate_loss
from .rollout import Trajectories, rollout

__all__ = ["MetaBatch", "adapt_policy", "maml_rl_loss"]


def adapt_policy(policy: nn.Module, trajectories: Trajectories, inner_lr: float,
                 params: dict[str, Tensor] | None = None, per_task: bool = False, first_order: bool = False,
                 estimator: Estimator = "reinforce", discount: float = 0.99) -> dict[str, Tensor]:
    """One policy-gradient ascent step per task: ``θ'_i = θ − α ∇_θ L_i(θ)`` with ``L_i`` the surrogate.

    Args:
        policy: the policy module (its structure; the weights come from ``params``).
        trajectories: each task's episodes, sampled with the parameters being adapted.
        inner_lr: the step size α (0.5 in the authors' 2-D navigation code).
        params: the parameters to adapt (the policy's own by default).
        per_task: whether ``params`` already carries a leading ``n_tasks`` dimension (a second
            inner step); otherwise the same parameters are adapted separately for each task.
        first_order: treat the inner gradient as a constant (no second derivatives).
        estimator: the surrogate differentiated in the inner step, ``"reinforce"`` (MAML's
            original) or ``"lvc"`` (ProMP's), which matters only for second-order meta-gradients.
        discount: γ of the returns-to-go.

    Returns:
        The fast weights, each of shape ``(n_tasks, *param_shape)``.

    Raises:
        ValueError: on ``inner_lr <= 0`` or a non-finite inner loss (naming the task).
    """
    if not inner_lr > 0:
        raise ValueError(f"inner_lr must be > 0, got {inner_lr!r}")
    params = dict(policy.named_parameters()) if params is None else params
    n_tasks = trajectories.states.shape[0]
    if not per_task:
        params = {name: value.expand(n_tasks, *value.shape) for name, value in params.items()}
    if not all(value.requires_grad for value in params.values()):
        raise ValueError("every tensor of params must require grad to be adapted (use .requires_grad_())")
    advantages = compute_advantages(trajectories, discount)
    output = apply_policy(policy, trajectories.states, params, per_task=True)
    log_probs = gaussian_log_prob(output, trajectories.actions)
    losses = surrogate_loss(log_probs, advantages, trajectories.mask, estimator, reduction="none")  # (n_tasks,)
    bad = (~torch.isfinite(losses)).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"non-finite inner loss for task(s) {bad}: {losses[bad].tolist()}")
    grads = torch.autograd.grad(losses.sum(), list(params.values()), create_graph=not first_order)
    return {name: value - inner_lr * grad for (name, value), grad in zip(params.items(), grads, strict=True)}


class MetaBatch(NamedTuple):
    """What one meta-step sampled: pre-update and post-update episodes, one set per task."""

    pre: Trajectories
    post: Trajectories


def maml_rl_loss(policy: nn.Module, env: Navigation2D, goals: Tensor, n_traj: int, inner_lr: float,
                 generator: torch.Generator, first_order: bool = False, estimator: Estimator = "reinforce",
                 discount: float = 0.99) -> tuple[Tensor, MetaBatch]:
    """The MAML-RL outer loss for a batch of tasks; ``loss.backward()`` gives the meta-gradient.

    Args:
        policy: the policy whose parameters are the meta-parameters θ.
        env: the task family.
        goals: the meta-batch of tasks.
        n_traj: episodes per task for the inner step and again for the outer step (20 in the paper).
        inner_lr, first_order, estimator, discount: as in :func:`adapt_policy`.
        generator: the source of action noise.

    Shapes:
        goals: ``(meta_batch_size, 2)`` → loss ``()``
    """
    pre = rollout(policy, env, goals, n_traj, generator)
    adapted = adapt_policy(policy, pre, inner_lr, first_order=first_order, estimator=estimator, discount=discount)
    post = rollout(policy, env, goals, n_traj, generator,
                   params={name: value.detach() for name, value in adapted.items()}, per_task=True)
    advantages = compute_advantages(post, discount)
    log_probs = gaussian_log_prob(apply_policy(policy, post.states, adapted, per_task=True), post.actions)
    return surrogate_loss(log_probs, advantages, post.mask), MetaBatch(pre, post)
