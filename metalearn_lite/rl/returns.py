"""Discounted returns-to-go, the quantity that REINFORCE weights each log-probability with.

``G_t = r_t + γ r_{t+1} + γ² r_{t+2} + …`` up to the end of the episode. Only rewards *after*
an action can be credited to it (causality), which is why each step gets its own return-to-go
instead of the episode's total (Williams 1992; Sutton and Barto 2018, §13.3).

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import checks

__all__ = ["discounted_returns"]


def discounted_returns(rewards: Tensor, mask: Tensor | None = None, discount: float = 0.99) -> Tensor:
    """Return-to-go of every step, computed backwards in time.

    Args:
        rewards: rewards along the last dimension (time); integer rewards are converted to the default
            float dtype.
        mask: 1.0 for steps that happened, 0.0 after an episode ended (default: all ones).
            Masked steps get return 0 and pass nothing back to earlier steps.
        discount: γ in ``[0, 1]`` (0.99 in the paper's code, rllab's default).

    Shapes:
        rewards, mask: ``(..., horizon)`` → ``(..., horizon)``
    """
    checks.probability("discount", discount)
    checks.tensor("rewards", rewards)
    if rewards.dim() < 1:
        raise ValueError("rewards must have a time dimension, got a scalar")
    if not rewards.dtype.is_floating_point:  # integer rewards: discounting needs fractions
        rewards = rewards.to(torch.get_default_dtype())
    if mask is not None:
        checks.tensor("mask", mask)
        if mask.shape != rewards.shape:
            raise ValueError(f"mask must have the shape of rewards {tuple(rewards.shape)}, got {tuple(mask.shape)}")
        mask = mask.to(rewards.dtype)
    rewards = rewards if mask is None else rewards * mask
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + discount * running
        if mask is not None:
            running = running * mask[..., t]
        returns[..., t] = running
    return returns
