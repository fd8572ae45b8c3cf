"""MAML for reinforcement learning: one policy-gradient step per task, judged by fresh episodes.

The meta-objective of Finn et al. (2017, §3.2 and Algorithm 3) for a task ``T_i`` is the expected
return of the *adapted* policy,

    θ'_i = θ + α ∇_θ Ĵ_i(θ)              (REINFORCE on n_traj episodes sampled with π_θ)
    max_θ  Σ_i E_{τ' ~ π_θ'_i}[R_i(τ')]   (estimated with n_traj new episodes sampled with π_θ'_i).

This is the package's :class:`~metalearn_lite.MAML` with other data, not another algorithm: the
inner loss of a task is the policy-gradient surrogate of its pre-update episodes
(:func:`~metalearn_lite.rl.policy_gradient.surrogate_loss`), handed to the one inner loop as a loss
of the parameters (:meth:`~metalearn_lite.gradient.GradientLearner.adapt_loss`); the query set is a
second batch of episodes that can only be sampled *after* adaptation, with the fast weights. So
the meta-RL step adapts per task, samples with the stacked fast weights, and evaluates the query
surrogate with them; ``loss.backward()`` then gives the meta-gradient (differentiated through the
inner step's surrogate, so its second-order part is only as good as that surrogate's Hessian: see
:mod:`~metalearn_lite.rl.policy_gradient`). The paper maximised the outer objective with TRPO;
this package uses Adam on the plain surrogate (§4.3 says why).

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .. import checks
from ..gradient import MAML
from ..gradient.fast_weights import Params
from .navigation import Navigation2D
from .policy import apply_policy, gaussian_log_prob
from .policy_gradient import ESTIMATORS, Estimator, compute_advantages, surrogate_loss
from .rollout import Trajectories, rollout

__all__ = ["MetaBatch", "PolicyMAML", "adapt_to_tasks", "maml_rl_loss", "policy_maml"]


def _episodes_only(prediction: Tensor, target: Tensor) -> Tensor:
    """PolicyMAML's ``loss_fn``: a policy adapts on episodes (:meth:`PolicyMAML.surrogate`), not on (x, y)."""
    raise TypeError("a PolicyMAML adapts on episodes: use adapt_to_tasks or adapt_loss with its surrogate, "
                    "not adapt(x, y) or meta_loss(tasks)")


class PolicyMAML(MAML):
    """MAML around a policy, adapted with policy-gradient steps on sampled episodes.

    Args:
        policy: a :class:`~metalearn_lite.rl.policy.GaussianMLPPolicy` (its parameters are θ).
        inner_lr: the inner step size α (0.5 in the authors' 2-D navigation code; 0.1 in the paper's
            appendix for the locomotion tasks).
        first_order: drop second derivatives from the meta-gradient (first-order MAML).
        estimator: the inner surrogate, ``"reinforce"`` (MAML's original) or ``"lvc"`` (ProMP's);
            same gradient, different second derivatives.
        learn_inner_lr: meta-learn per-weight inner step sizes (Meta-SGD).
    """

    def __init__(self, policy: nn.Module, inner_lr: float = 0.5, first_order: bool = False,
                 estimator: Estimator = "reinforce", learn_inner_lr: bool = False) -> None:
        checks.module("policy", policy)
        super().__init__(policy, _episodes_only, inner_lr, inner_steps=1, first_order=first_order,
                         learn_inner_lr=learn_inner_lr)
        self.estimator = checks.one_of("estimator", estimator, ESTIMATORS)

    def surrogate(self, params: Params, states: Tensor, actions: Tensor, advantages: Tensor,
                  mask: Tensor) -> Tensor:
        """The inner loss: :func:`surrogate_loss` of the policy with ``params`` on one task's episodes.

        Shapes:
            states: ``(1, n_traj, horizon, state_dim)``; actions: ``(1, n_traj, horizon, action_dim)``;
            advantages, mask: ``(1, n_traj, horizon)`` -> ``()``.
        """
        log_probs = gaussian_log_prob(self.apply(params, states), actions)
        return surrogate_loss(log_probs, advantages, mask, self.estimator)


def policy_maml(policy: nn.Module, inner_lr: float = 0.5, first_order: bool = False,
                estimator: Estimator = "reinforce", learn_inner_lr: bool = False) -> PolicyMAML:
    """A :class:`PolicyMAML`: "MAML for this policy", as §4.3's code reads."""
    return PolicyMAML(policy, inner_lr, first_order, estimator, learn_inner_lr)


def adapt_to_tasks(maml: PolicyMAML, trajectories: Trajectories, params: Params | None = None,
                   per_task: bool = False, discount: float = 0.99) -> Params:
    """One policy-gradient step per task on its episodes; the fast weights stacked along a task dimension.

    Each task's episodes form a batch of one, ``(1, n_traj, horizon, ...)``, so the surrogate
    averages over all valid steps of the task, as in the authors' code.

    Args:
        maml: a :class:`PolicyMAML`.
        trajectories: each task's episodes, sampled with the parameters being adapted.
        params: the starting parameters (the policy's own by default).
        per_task: whether ``params`` holds one set per task (leading ``n_tasks`` dimension), e.g.
            for a second adaptation step.

    Returns:
        The fast weights, each ``(n_tasks, *param_shape)``.

    Raises:
        NonFiniteLossError: a non-finite inner loss, naming the task of the batch.
    """
    if not isinstance(maml, PolicyMAML):
        raise TypeError(f"maml must be a PolicyMAML (see policy_maml), got {type(maml).__name__}")
    advantages = compute_advantages(trajectories, discount)
    fast = []
    for i in range(trajectories.states.shape[0]):
        start = {name: value[i] for name, value in params.items()} if per_task and params is not None else params
        one = slice(i, i + 1)
        fast.append(maml.adapt_loss(
            lambda p, one=one: maml.surrogate(p, trajectories.states[one], trajectories.actions[one],
                                              advantages[one], trajectories.mask[one]),
            params=start, task=i))
    return {name: torch.stack([f[name] for f in fast]) for name in fast[0]}


class MetaBatch(NamedTuple):
    """What one meta-step sampled: pre-update and post-update episodes, one set per task."""

    pre: Trajectories
    post: Trajectories


def maml_rl_loss(maml: PolicyMAML, env: Navigation2D, goals: Tensor, n_traj: int, generator: torch.Generator,
                 discount: float = 0.99) -> tuple[Tensor, MetaBatch]:
    """The MAML-RL outer loss for a batch of tasks; ``loss.backward()`` gives the meta-gradient.

    Args:
        maml: a :class:`PolicyMAML`; ``maml.model`` is the policy.
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
    log_probs = gaussian_log_prob(apply_policy(policy, post.states, fast, per_task=True), post.actions)
    return surrogate_loss(log_probs, compute_advantages(post, discount), post.mask), MetaBatch(pre, post)
