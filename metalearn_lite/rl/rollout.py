"""Sampling trajectories: run a policy in a vectorised environment for many tasks at once.

Every trajectory of every task advances in the same tensor operation, so a batch of
``n_tasks × n_traj`` episodes of 100 steps costs 100 small forward passes. Trajectories that
reach their goal early stay in the tensors (the arrays keep a fixed length ``horizon``) but their
later steps have ``mask = 0`` and count nowhere: not in returns, losses nor baseline fits.

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .. import checks
from .navigation import Navigation2D
from .policy import apply_policy, sample_actions

__all__ = ["Trajectories", "rollout"]


class Trajectories(NamedTuple):
    """A batch of episodes for several tasks, padded to the horizon.

    Shapes:
        states: ``(n_tasks, n_traj, horizon, state_dim)``, the state each action was taken in
        actions: ``(n_tasks, n_traj, horizon, action_dim)``, as sampled (before clipping)
        rewards: ``(n_tasks, n_traj, horizon)``
        mask: ``(n_tasks, n_traj, horizon)``, 1.0 for steps that happened, 0.0 after the end
    """

    states: Tensor
    actions: Tensor
    rewards: Tensor
    mask: Tensor

    def episode_returns(self) -> Tensor:
        """Undiscounted return of each episode, ``(n_tasks, n_traj)`` (the number papers report)."""
        return (self.rewards * self.mask).sum(dim=-1)


@torch.no_grad()
def rollout(policy: nn.Module, env: Navigation2D, goals: Tensor, n_traj: int, generator: torch.Generator,
            params: dict[str, Tensor] | None = None, per_task: bool = False) -> Trajectories:
    """Sample ``n_traj`` episodes for each goal with the policy's parameters or ``params``.

    Args:
        policy: a :class:`~metalearn_lite.rl.policy.GaussianMLPPolicy` (or any module with its
            packed output).
        env: the task family (horizon, step size, termination).
        goals: one goal per task.
        n_traj: episodes per task.
        generator: the only source of randomness (action noise).
        params: parameters to act with instead of the policy's own, e.g. adapted ones.
        per_task: whether ``params`` holds one set per task (leading ``n_tasks`` dimension).

    Shapes:
        goals: ``(n_tasks, 2)`` → a :class:`Trajectories` with ``(n_tasks, n_traj, horizon, ...)``
    """
    checks.boolean("per_task", per_task)
    checks.generator("generator", generator, optional=False)
    states = env.reset(goals, n_traj)  # (n_tasks, n_traj, 2)
    alive = torch.ones(states.shape[:-1], dtype=torch.bool, device=states.device)
    history: dict[str, list[Tensor]] = {"states": [], "actions": [], "rewards": [], "mask": []}
    for _ in range(env.horizon):
        actions = sample_actions(apply_policy(policy, states, params, per_task), generator)
        next_states, rewards, reached = env.step(states, actions, goals)
        for key, value in zip(history, (states, actions, rewards, alive.to(rewards.dtype)), strict=True):
            history[key].append(value)
        alive = alive & ~reached
        states = next_states
    return Trajectories(*(torch.stack(history[key], dim=2) for key in history))
