"""MAML for reinforcement learning: one policy-gradient step per task, judged by fresh episodes.

The meta-objective of Finn et al. (2017, §3.2 and Algorithm 3) for a task ``T_i`` is the expected
return of the *adapted* policy,

    θ'_i = θ + α ∇_θ Ĵ_i(θ)              (REINFORCE on n_traj episodes sampled with π_θ)
    max_θ  Σ_i E_{τ' ~ π_θ'_i}[R_i(τ')]   (estimated with n_traj new episodes sampled with π_θ'_i).

This is the package's :class:`~metalearn_lite.MAML` with two changes of data, none of algorithm:
the support set of a task is its pre-update episodes, with ``targets`` packing the sampled actions,
their advantages and the validity mask, and ``loss_fn`` is the policy-gradient surrogate
(:func:`~metalearn_lite.rl.policy_gradient.policy_gradient_loss`); the query set is a second batch
of episodes that can only be sampled *after* adaptation, with the fast weights. So the meta-RL step
calls ``MAML.adapt`` per task, samples with the stacked fast weights, and evaluates the query
surrogate with them; ``loss.backward()`` then gives the MAML meta-gradient (second order unless the
``MAML`` was built with ``first_order=True``). The paper maximised the outer objective with TRPO;
this package uses Adam on the plain surrogate (chapter 4.3 says why).

Taught in chapter 4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import torch
from torch import Tensor, nn

from ..maml import MAML
from .navigation import Navigation2D
from .policy import apply_policy
from .policy_gradient import ESTIMATORS, Estimator, compute_advantages, pack_targets, policy_gradient_loss
from .rollout import Trajectories, rollout

__all__ = ["MetaBatch", "adapt_to_tasks", "maml_rl_loss", "policy_maml", "trajectory_targets"]


def policy_maml(policy: nn.Module, inner_lr: float = 0.5, first_order: bool = False,
                estimator: Estimator = "reinforce", learn_inner_lr: bool = False) -> MAML:
    """A :class:`~metalearn_lite.MAML` whose inner loss is the policy-gradient surrogate.

    Args:
        policy: a :class:`~metalearn_lite.rl.policy.GaussianMLPPolicy` (its parameters are θ).
        inner_lr: the inner step size α (0.5 in the authors' 2-D navigation code).
        first_order: drop second derivatives from the meta-gradient (first-order MAML).
        estimator: the inner surrogate, ``"reinforce"`` (MAML's original) or ``"lvc"`` (ProMP's);
            they differ only in second derivatives.
        learn_inner_lr: meta-learn per-weight inner step sizes (Meta-SGD).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    return MAML(policy, partial(policy_gradient_loss, estimator=estimator), inner_lr, inner_steps=1,
                first_order=first_order, learn_inner_lr=learn_inner_lr)


def trajectory_targets(trajectories: Trajectories, discount: float = 0.99) -> Tensor:
    """The ``targets`` of the surrogate: actions, advantages (baseline, normalised) and mask, packed.

    Shapes:
        returns ``(n_tasks, n_traj, horizon, action_dim + 2)``
    """
    advantages = compute_advantages(trajectories, discount)
    return pack_targets(trajectories.actions, advantages, trajectories.mask)


def adapt_to_tasks(maml: MAML, trajectories: Trajectories, params: dict[str, Tensor] | None = None,
                   per_task: bool = False, discount: float = 0.99) -> dict[str, Tensor]:
    """``maml.adapt`` on each task's episodes; the fast weights stacked along a task dimension.

    Each task's support set is passed as a batch of one, ``(1, n_traj, horizon, ...)``, so the
    surrogate averages over all valid steps of the task, as in the authors' code.

    Args:
        maml: from :func:`policy_maml`.
        trajectories: each task's episodes, sampled with the parameters being adapted.
        params: the starting parameters (the policy's own by default).
        per_task: whether ``params`` holds one set per task (leading ``n_tasks`` dimension), e.g.
            for a second adaptation step.

    Returns:
        The fast weights, each ``(n_tasks, *param_shape)``.

    Raises:
        ValueError: from ``MAML.adapt`` (e.g. a non-finite inner loss), naming the task.
    """
    targets = trajectory_targets(trajectories, discount)
    fast = []
    for i in range(trajectories.states.shape[0]):
        start = {name: value[i] for name, value in params.items()} if per_task and params is not None else params
        try:
            fast.append(maml.adapt(trajectories.states[i : i + 1], targets[i : i + 1], params=start))
        except ValueError as error:
            raise ValueError(f"adapting to task {i} of the batch: {error}") from error
    return {name: torch.stack([f[name] for f in fast]) for name in fast[0]}


class MetaBatch(NamedTuple):
    """What one meta-step sampled: pre-update and post-update episodes, one set per task."""

    pre: Trajectories
    post: Trajectories


def maml_rl_loss(maml: MAML, env: Navigation2D, goals: Tensor, n_traj: int, generator: torch.Generator,
                 discount: float = 0.99) -> tuple[Tensor, MetaBatch]:
    """The MAML-RL outer loss for a batch of tasks; ``loss.backward()`` gives the meta-gradient.

    Args:
        maml: from :func:`policy_maml`; ``maml.model`` is the policy.
        env: the task family.
        goals: the meta-batch of tasks.
        n_traj: episodes per task for the inner step and again for the outer step (20 in the paper).
        generator: the source of action noise.
        discount: γ of the returns-to-go.

    Shapes:
        goals: ``(meta_batch_size, 2)`` → loss ``()``
    """
    policy = maml.model
    pre = rollout(policy, env, goals, n_traj, generator)
    fast = adapt_to_tasks(maml, pre, discount=discount)
    post = rollout(policy, env, goals, n_traj, generator,
                   params={name: value.detach() for name, value in fast.items()}, per_task=True)
    output = apply_policy(policy, post.states, fast, per_task=True)
    return policy_gradient_loss(output, trajectory_targets(post, discount)), MetaBatch(pre, post)
