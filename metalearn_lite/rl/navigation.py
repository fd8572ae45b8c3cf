"""The 2-D point navigation task family of MAML for reinforcement learning (Finn et al. 2017, §5.3).

A point starts at the origin of the plane and must reach a goal it cannot see; each task is one
goal drawn uniformly from the square ``[-0.5, 0.5]²``. An action moves the point by at most 0.1
along each axis, the reward of a step is minus the distance to the goal after the move, and an
episode lasts at most 100 steps. As in the authors' code, an episode also ends early once the
point is within 0.01 of the goal along both axes (set ``goal_tolerance=0`` to switch that off).

Actions are in the policy's normalised units: a component ``a`` moves the point by
``max_step * clip(a, -1, 1)``, which is what the authors' ``normalize`` wrapper did around their
environment with action bounds ±0.1. Everything is vectorised: states carry leading dimensions
``(n_tasks, n_traj)`` and goals ``(n_tasks,)``, so hundreds of trajectories of many tasks step in
one tensor operation.

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .. import checks

__all__ = ["Navigation2D", "navigation_step"]


def navigation_step(
    states: Tensor, actions: Tensor, goals: Tensor, max_step: float = 0.1, goal_tolerance: float = 0.01
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of 2-D navigation for any number of tasks and trajectories.

    Args:
        states: current positions.
        actions: actions in normalised units; each component is clipped to ``[-1, 1]`` and then
            scaled by ``max_step``, so a step moves at most ``max_step`` along each axis.
        goals: one goal per task.
        max_step: the largest move per axis and step (0.1 in the paper).
        goal_tolerance: the episode ends when both coordinates are closer than this to the goal
            (0.01 in the authors' code; 0 never ends early).

    Returns:
        ``(next_states, rewards, reached)``: new positions, the reward ``-||next_state - goal||``
        and a boolean that is true where the goal was reached on this step.

    Shapes:
        states, actions: ``(n_tasks, *batch, 2)``
        goals: ``(n_tasks, 2)``
        next_states: ``(n_tasks, *batch, 2)``; rewards, reached: ``(n_tasks, *batch)``
    """
    if states.shape != actions.shape:
        raise ValueError(f"actions must have the shape of states {tuple(states.shape)}, got {tuple(actions.shape)}")
    if states.shape[-1] != 2 or states.dim() < 2:
        raise ValueError(f"states must be (n_tasks, ..., 2), got {tuple(states.shape)}")
    if goals.shape != (states.shape[0], 2):
        raise ValueError(f"goals must be (n_tasks, 2) = ({states.shape[0]}, 2), got {tuple(goals.shape)}")
    goals = goals.view(goals.shape[0], *([1] * (states.dim() - 2)), 2)  # broadcast over the batch dims
    next_states = states + max_step * actions.clamp(-1.0, 1.0)
    offset = next_states - goals
    rewards = -offset.norm(dim=-1)
    reached = (offset.abs() < goal_tolerance).all(dim=-1)
    return next_states, rewards, reached


@dataclass(frozen=True)
class Navigation2D:
    """The task family: where goals come from and how a step works (paper defaults).

    Args:
        horizon: the most steps in one episode (100).
        max_step: the largest move per axis and step (0.1).
        goal_low, goal_high: goals are uniform in ``[goal_low, goal_high]²`` (−0.5, 0.5).
        goal_tolerance: early termination radius per axis (0.01, from the authors' code).
    """

    horizon: int = 100
    max_step: float = 0.1
    goal_low: float = -0.5
    goal_high: float = 0.5
    goal_tolerance: float = 0.01

    state_dim = 2
    action_dim = 2

    def __post_init__(self) -> None:
        checks.positive_int("horizon", self.horizon)
        checks.positive_number("max_step", self.max_step)
        if not checks.number("goal_low", self.goal_low) < checks.number("goal_high", self.goal_high):
            raise ValueError(f"goal_low must be < goal_high, got {self.goal_low!r} and {self.goal_high!r}")
        checks.number("goal_tolerance", self.goal_tolerance, 0.0)

    def sample_goals(self, n_tasks: int, generator: torch.Generator) -> Tensor:
        """``n_tasks`` goals uniform in the square. Shapes: returns ``(n_tasks, 2)``."""
        checks.positive_int("n_tasks", n_tasks)
        checks.generator("generator", generator)
        unit = torch.rand(n_tasks, 2, generator=generator)
        return self.goal_low + (self.goal_high - self.goal_low) * unit

    def reset(self, goals: Tensor, n_traj: int) -> Tensor:
        """Start states, all at the origin. Shapes: returns ``(n_tasks, n_traj, 2)``."""
        if goals.dim() != 2 or goals.shape[-1] != 2:
            raise ValueError(f"goals must be (n_tasks, 2), got {tuple(goals.shape)}")
        checks.positive_int("n_traj", n_traj)
        return goals.new_zeros(goals.shape[0], n_traj, 2)

    def step(self, states: Tensor, actions: Tensor, goals: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:func:`navigation_step` with this family's ``max_step`` and ``goal_tolerance``."""
        return navigation_step(states, actions, goals, self.max_step, self.goal_tolerance)
