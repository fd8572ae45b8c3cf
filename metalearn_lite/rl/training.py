"""Training and evaluation loops of meta-RL: MAML-RL, a jointly pretrained policy, adaptation curves.

* :func:`train_maml_rl` — Adam on the MAML-RL meta-gradient (:func:`~.maml_rl.maml_rl_loss`), for
  the parameters of a :class:`~.maml_rl.PolicyMAML` (the policy's, plus the inner step sizes for
  Meta-SGD).
* :func:`train_pretrained` — the paper's "pretrained" baseline: one policy trained by policy
  gradient on episodes of many random goals jointly, with as many episodes per iteration as MAML
  samples (pre- and post-update together), so both see the same amount of experience.
* :func:`evaluate_adaptation` — the paper's test protocol: on each held-out goal, sample
  ``n_traj`` episodes, take a policy-gradient step, repeat; report the average return after
  0, 1, 2, … steps. As in the authors' test script, the first step uses ``inner_lr`` and later
  steps half of it.

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import checks
from ..training import optimizer_step
from .maml_rl import PolicyMAML, adapt_to_tasks, maml_rl_loss
from .navigation import Navigation2D
from .policy import gaussian_log_prob
from .policy_gradient import Estimator, compute_advantages, surrogate_loss
from .rollout import Trajectories, rollout

__all__ = ["Adaptation", "evaluate_adaptation", "train_maml_rl", "train_pretrained"]


def train_maml_rl(maml: PolicyMAML, env: Navigation2D, num_steps: int, generator: torch.Generator,
                  meta_batch_size: int = 20, n_traj: int = 20, outer_lr: float = 1e-2, discount: float = 0.99,
                  progress: bool = True) -> dict[str, list[float]]:
    """Meta-train ``maml`` (its policy, in place) with Adam; returns the history of average returns.

    Args:
        maml: a :class:`~.maml_rl.PolicyMAML` (inner step size, first or second order, estimator).
        num_steps: meta-steps (100 in the authors' 2-D navigation script).
        meta_batch_size: goals per meta-step (20 in the paper).
        n_traj: episodes per goal before and again after adaptation (20).
        outer_lr: Adam's step size β (the paper used TRPO instead; see §4.3 (``notebooks/09_meta_rl.ipynb``)).

    Returns:
        ``{"pre_return": [...], "post_return": [...]}``: mean episode return before and after the
        inner step, over the meta-batch, one value per iteration.
    """
    if not isinstance(maml, PolicyMAML):
        raise TypeError(f"maml must be a PolicyMAML, got {type(maml).__name__}")
    _check_loop(num_steps, meta_batch_size, n_traj, outer_lr, discount, generator, progress)
    optimizer = torch.optim.Adam(maml.parameters(), lr=outer_lr)
    device = next(maml.model.parameters()).device
    history: dict[str, list[float]] = {"pre_return": [], "post_return": []}
    for step in tqdm(range(num_steps), desc="MAML-RL", disable=not progress):
        goals = env.sample_goals(meta_batch_size, generator).to(device)
        loss, batch = maml_rl_loss(maml, env, goals, n_traj, generator, discount)
        optimizer_step(optimizer, loss, f"the MAML-RL outer loss at step {step}")
        history["pre_return"].append(batch.pre.episode_returns().mean().item())
        history["post_return"].append(batch.post.episode_returns().mean().item())
    return history


def _check_loop(num_steps, meta_batch_size, n_traj, outer_lr, discount, generator, progress) -> None:
    """The arguments that :func:`meta_train_rl` and :func:`train_pretrained` share."""
    checks.positive_ints(num_steps=num_steps, meta_batch_size=meta_batch_size, n_traj=n_traj)
    checks.boolean("progress", progress)
    checks.positive_number("outer_lr", outer_lr)
    checks.probability("discount", discount)
    checks.generator("generator", generator, optional=False)


def train_pretrained(policy: nn.Module, env: Navigation2D, num_steps: int, generator: torch.Generator,
                     meta_batch_size: int = 20, n_traj: int = 40, outer_lr: float = 1e-2, discount: float = 0.99,
                     progress: bool = True) -> dict[str, list[float]]:
    """Train one policy on all goals jointly (policy gradient with Adam); returns ``{"return": [...]}``.

    ``n_traj = 40`` per goal matches MAML's 20 pre-update plus 20 post-update episodes.
    """
    checks.module("policy", policy)
    _check_loop(num_steps, meta_batch_size, n_traj, outer_lr, discount, generator, progress)
    optimizer = torch.optim.Adam(policy.parameters(), lr=outer_lr)
    history: dict[str, list[float]] = {"return": []}
    for step in tqdm(range(num_steps), desc="pretrain", disable=not progress):
        goals = env.sample_goals(meta_batch_size, generator).to(next(policy.parameters()).device)
        batch = rollout(policy, env, goals, n_traj, generator)
        log_probs = gaussian_log_prob(policy(batch.states), batch.actions)
        loss = surrogate_loss(log_probs, compute_advantages(batch, discount), batch.mask)
        optimizer_step(optimizer, loss, f"the policy-gradient loss at step {step}")
        history["return"].append(batch.episode_returns().mean().item())
    return history


class Adaptation(NamedTuple):
    """The result of :func:`evaluate_adaptation`.

    Shapes:
        returns: ``(n_goals, inner_steps + 1)``, the mean episode return per goal after k steps
        trajectories: ``inner_steps + 1`` batches, the episodes sampled after k steps
    """

    returns: Tensor
    trajectories: list[Trajectories]


def evaluate_adaptation(policy: nn.Module, env: Navigation2D, goals: Tensor, generator: torch.Generator,
                        inner_steps: int = 2, n_traj: int = 40, inner_lr: float = 0.5, later_lr: float | None = None,
                        estimator: Estimator = "reinforce", discount: float = 0.99) -> Adaptation:
    """Adapt to each goal with ``inner_steps`` policy-gradient steps of ``n_traj`` episodes each.

    Args:
        goals: held-out tasks.
        inner_steps: adaptation steps (the returns are measured after 0 … inner_steps of them).
        n_traj: episodes per step (40 in the authors' test script).
        inner_lr: step size of the first step; ``later_lr`` of the following ones (default
            ``inner_lr / 2``, as in the authors' test script).
    """
    checks.positive_ints(inner_steps=inner_steps, n_traj=n_traj)
    later_lr = inner_lr / 2 if later_lr is None else later_lr
    step_makers = [PolicyMAML(policy, lr, first_order=True, estimator=estimator) for lr in (inner_lr, later_lr)]
    params = {name: value.detach() for name, value in policy.named_parameters()}
    per_task = False
    batches = []
    for step in range(inner_steps + 1):
        batch = rollout(policy, env, goals, n_traj, generator, params=params, per_task=per_task)
        batches.append(batch)
        if step < inner_steps:
            with torch.no_grad():  # MAML.adapt still differentiates the inner loss; the result is detached
                params = adapt_to_tasks(step_makers[min(step, 1)], batch, params, per_task, discount)
            per_task = True
    returns = torch.stack([batch.episode_returns().mean(dim=1) for batch in batches], dim=1)
    return Adaptation(returns.cpu(), batches)
