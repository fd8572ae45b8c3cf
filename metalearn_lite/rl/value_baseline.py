"""The linear feature baseline of Duan et al. (2016), the one MAML's RL experiments used.

A baseline ``b(s_t, t)`` subtracted from the returns leaves the policy gradient unbiased (it does
not depend on the action) and can shrink its variance a lot. This one is a ridge regression of
the returns-to-go on hand-made features of the state and the time step,

    φ(s, t) = [s, s², t/H, (t/H)², (t/H)³, 1]   (s clipped to ±10, H the horizon),

fitted separately for each task by solving ``(ΦᵀΦ + λI) w = ΦᵀG`` on that task's batch. The
authors' rllab code predicted with the fit of the *previous* batch and refitted afterwards; here
the fit uses the batch it is applied to, which keeps the function stateless at the price of a
small bias (of the order of features / samples, 8 / 2000 for 20 episodes of 100 steps).

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import checks

__all__ = ["baseline_features", "linear_feature_baseline"]


def baseline_features(states: Tensor) -> Tensor:
    """The features ``[s, s², t/H, (t/H)², (t/H)³, 1]`` of every step.

    Shapes:
        states: ``(..., horizon, state_dim)`` → ``(..., horizon, 2 * state_dim + 4)``
    """
    if states.dim() < 2:
        raise ValueError(f"states must be (..., horizon, state_dim), got {tuple(states.shape)}")
    horizon = states.shape[-2]
    s = states.clamp(-10.0, 10.0)
    t = torch.arange(horizon, dtype=states.dtype, device=states.device) / horizon
    t = t.view(horizon, 1).expand(*states.shape[:-1], 1)
    return torch.cat([s, s * s, t, t * t, t * t * t, torch.ones_like(t)], dim=-1)


def linear_feature_baseline(states: Tensor, returns: Tensor, mask: Tensor, reg: float = 1e-5) -> Tensor:
    """Fit the baseline per task on its batch and return its value at every step.

    Args:
        states: the states of each task's episodes.
        returns: returns-to-go (the regression targets).
        mask: 1.0 for valid steps; only they enter the fit, and masked steps get value 0.
        reg: ridge coefficient λ (rllab's 1e-5).

    Shapes:
        states: ``(n_tasks, n_traj, horizon, state_dim)``; returns, mask: ``(n_tasks, n_traj, horizon)``
        → ``(n_tasks, n_traj, horizon)``
    """
    if states.dim() != 4:
        raise ValueError(f"states must be (n_tasks, n_traj, horizon, state_dim), got {tuple(states.shape)}")
    if returns.shape != states.shape[:-1] or mask.shape != returns.shape:
        raise ValueError(f"returns and mask must be {tuple(states.shape[:-1])}, "
                         f"got {tuple(returns.shape)} and {tuple(mask.shape)}")
    checks.positive_number("reg", reg)
    n_tasks = states.shape[0]
    features = baseline_features(states).double() * mask.double()[..., None]  # zero rows for masked steps
    phi = features.reshape(n_tasks, -1, features.shape[-1])  # (n_tasks, n_traj * horizon, F)
    target = (returns.double() * mask.double()).reshape(n_tasks, -1, 1)
    gram = phi.transpose(1, 2) @ phi + reg * torch.eye(phi.shape[-1], dtype=phi.dtype, device=phi.device)
    weights = torch.linalg.solve(gram, phi.transpose(1, 2) @ target)  # (n_tasks, F, 1)
    return (phi @ weights).reshape(returns.shape).to(returns.dtype)
