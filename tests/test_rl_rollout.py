import math

import pytest
import torch

from metalearn_lite.rl import GaussianMLPPolicy, Navigation2D, rollout


def straight_policy(direction: tuple[float, float]) -> GaussianMLPPolicy:
    """A policy whose mean action is ``direction`` everywhere and whose noise is negligible."""
    policy = GaussianMLPPolicy(hidden_sizes=(4,)).double()
    with torch.no_grad():
        for value in policy.parameters():
            value.zero_()
        policy.mean.layers[-1].bias.copy_(torch.tensor(direction))
        policy.log_std.fill_(-30.0)
    return policy


def test_episode_ends_at_the_goal_and_masks_the_rest():
    env = Navigation2D(horizon=8)
    goals = torch.tensor([[0.3, 0.3], [-0.5, 0.5]], dtype=torch.float64)
    batch = rollout(straight_policy((1.0, 1.0)), env, goals, n_traj=2, generator=torch.Generator().manual_seed(0))
    assert batch.states.shape == (2, 2, 8, 2) and batch.actions.shape == (2, 2, 8, 2)
    assert batch.rewards.shape == batch.mask.shape == (2, 2, 8)
    # task 0: (0.1, 0.1), (0.2, 0.2), (0.3, 0.3) = goal reached on the third step
    torch.testing.assert_close(batch.mask[0, 0], torch.tensor([1, 1, 1, 0, 0, 0, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(batch.states[0, 0, :3], torch.tensor([[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]],
                                                                    dtype=torch.float64))
    torch.testing.assert_close(batch.episode_returns()[0], torch.full((2,), -0.3 * math.sqrt(2), dtype=torch.float64))
    # task 1: the point moves away along x and never arrives
    assert batch.mask[1].all()
    expected = sum(-math.hypot(0.1 * t + 0.5, 0.5 - 0.1 * t) for t in range(1, 9))
    torch.testing.assert_close(batch.episode_returns()[1], torch.full((2,), expected, dtype=torch.float64))


def test_per_task_params_act_per_task():
    env = Navigation2D(horizon=5)
    goals = torch.zeros(2, 2)
    policy = GaussianMLPPolicy(hidden_sizes=(4,))
    params = {k: torch.stack([v.detach(), v.detach() + 0.5]) for k, v in policy.named_parameters()}
    batched = rollout(policy, env, goals, 3, torch.Generator().manual_seed(0), params=params, per_task=True)
    shared = {k: v[1] for k, v in params.items()}
    one = rollout(policy, env, goals, 3, torch.Generator().manual_seed(0), params=shared)
    # same noise draws, so task 1 of the per-task rollout equals task 1 with its params shared
    torch.testing.assert_close(batched.actions[1], one.actions[1])
    assert not torch.allclose(batched.actions[0], one.actions[0])


def test_rollout_is_reproducible_and_needs_no_grad():
    env = Navigation2D(horizon=4)
    policy = GaussianMLPPolicy(hidden_sizes=(4,))
    goals = env.sample_goals(3, torch.Generator().manual_seed(1))
    a = rollout(policy, env, goals, 2, torch.Generator().manual_seed(2))
    b = rollout(policy, env, goals, 2, torch.Generator().manual_seed(2))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not any(t.requires_grad for t in a)


def test_bad_input_raises():
    env, policy = Navigation2D(horizon=3), GaussianMLPPolicy(hidden_sizes=(4,))
    with pytest.raises(ValueError, match="n_traj"):
        rollout(policy, env, torch.zeros(2, 2), 0, torch.Generator())
    with pytest.raises(ValueError, match="goals"):
        rollout(policy, env, torch.zeros(2, 3), 1, torch.Generator())
