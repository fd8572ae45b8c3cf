import math

import pytest
import torch

from metalearn_lite.rl import Navigation2D, navigation_step


def test_step_moves_clips_and_rewards_by_hand():
    states = torch.tensor([[[0.0, 0.0], [0.2, -0.1]]])  # one task, two trajectories
    actions = torch.tensor([[[0.5, -2.0], [3.0, 0.25]]])
    goals = torch.tensor([[0.3, 0.4]])
    next_states, rewards, reached = navigation_step(states, actions, goals)
    # 0.5 -> 0.05; -2.0 is clipped to -1 -> -0.1; 3.0 -> 0.1; 0.25 -> 0.025
    expected = torch.tensor([[[0.05, -0.1], [0.3, -0.075]]])
    torch.testing.assert_close(next_states, expected)
    torch.testing.assert_close(rewards, torch.tensor([[-math.hypot(0.25, 0.5), -math.hypot(0.0, 0.475)]]))
    assert not reached.any()


def test_each_task_uses_its_own_goal_and_reaching_is_per_axis():
    states = torch.zeros(2, 3, 2)
    actions = torch.ones(2, 3, 2)  # moves (0.1, 0.1)
    goals = torch.tensor([[0.105, 0.095], [0.1, 0.2]])
    _, rewards, reached = navigation_step(states, actions, goals)
    torch.testing.assert_close(rewards[0], torch.full((3,), -math.hypot(0.005, 0.005)))
    torch.testing.assert_close(rewards[1], torch.full((3,), -0.1))
    assert reached[0].all() and not reached[1].any()
    _, _, never = navigation_step(states, actions, goals, goal_tolerance=0.0)
    assert not never.any()


def test_max_step_scales_moves():
    moved, _, _ = navigation_step(torch.zeros(1, 1, 2), torch.full((1, 1, 2), 7.0), torch.zeros(1, 2), max_step=0.3)
    torch.testing.assert_close(moved, torch.full((1, 1, 2), 0.3))


def test_sample_goals_uniform_in_square_and_reproducible():
    env = Navigation2D()
    goals = env.sample_goals(20_000, torch.Generator().manual_seed(0))
    assert goals.shape == (20_000, 2)
    assert goals.min() >= -0.5 and goals.max() <= 0.5
    # uniform on [-0.5, 0.5]: mean 0 and variance 1/12; 5 standard errors
    assert goals.mean(0).abs().max() < 5 * math.sqrt(1 / 12 / 20_000)
    assert (goals.var(0) - 1 / 12).abs().max() < 0.005
    again = env.sample_goals(20_000, torch.Generator().manual_seed(0))
    assert torch.equal(goals, again)


def test_reset_starts_at_origin():
    env = Navigation2D()
    start = env.reset(torch.rand(4, 2), n_traj=3)
    assert start.shape == (4, 3, 2) and not start.any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: navigation_step(torch.zeros(1, 3, 2), torch.zeros(1, 2, 2), torch.zeros(1, 2)), "actions"),
        (lambda: navigation_step(torch.zeros(1, 3, 3), torch.zeros(1, 3, 3), torch.zeros(1, 2)), "states"),
        (lambda: navigation_step(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.zeros(1, 2)), "goals"),
        (lambda: Navigation2D(horizon=0), "horizon"),
        (lambda: Navigation2D(max_step=0.0), "max_step"),
        (lambda: Navigation2D(goal_low=1.0, goal_high=0.0), "goal_low"),
        (lambda: Navigation2D(goal_tolerance=-1.0), "goal_tolerance"),
        (lambda: Navigation2D().sample_goals(0, torch.Generator()), "n_tasks"),
        (lambda: Navigation2D().reset(torch.zeros(3), 2), "goals"),
        (lambda: Navigation2D().reset(torch.zeros(3, 2), 0), "n_traj"),
    ],
)
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()
