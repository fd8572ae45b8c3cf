import math

import pytest
import torch

from metalearn_lite.rl import GaussianMLPPolicy, apply_policy, gaussian_log_prob, sample_actions, split_output


def test_output_packs_mean_and_state_independent_log_std():
    policy = GaussianMLPPolicy(hidden_sizes=(8, 8), init_std=0.5)
    out = policy(torch.randn(3, 4, 2))
    assert out.shape == (3, 4, 4)
    mean, log_std = split_output(out)
    assert mean.shape == (3, 4, 2)
    torch.testing.assert_close(log_std, torch.full((3, 4, 2), math.log(0.5)))
    assert len(policy.mean.layers) == 5  # Linear, ReLU, Linear, ReLU, Linear


def test_log_prob_matches_torch_distributions():
    out = torch.randn(5, 4, dtype=torch.float64)
    actions = torch.randn(5, 2, dtype=torch.float64)
    mean, log_std = split_output(out)
    reference = torch.distributions.Normal(mean, log_std.exp()).log_prob(actions).sum(-1)
    torch.testing.assert_close(gaussian_log_prob(out, actions), reference)


def test_samples_follow_the_distribution_and_the_generator():
    out = torch.tensor([[0.3, -1.0, math.log(0.2), math.log(2.0)]]).expand(50_000, 4)
    actions = sample_actions(out, torch.Generator().manual_seed(0))
    assert torch.equal(actions, sample_actions(out, torch.Generator().manual_seed(0)))
    torch.testing.assert_close(actions.mean(0), torch.tensor([0.3, -1.0]), atol=0.03, rtol=0)
    torch.testing.assert_close(actions.std(0), torch.tensor([0.2, 2.0]), atol=0.03, rtol=0)
    assert not actions.requires_grad


def test_per_task_params_equal_a_loop_of_functional_calls():
    policy = GaussianMLPPolicy(hidden_sizes=(6,))
    params = {k: v.detach() + 0.1 * torch.randn(3, *v.shape) for k, v in policy.named_parameters()}
    states = torch.randn(3, 4, 7, 2)
    batched = apply_policy(policy, states, params, per_task=True)
    for i in range(3):
        one = torch.func.functional_call(policy, {k: v[i] for k, v in params.items()}, (states[i],))
        torch.testing.assert_close(batched[i], one)
    torch.testing.assert_close(apply_policy(policy, states), policy(states))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p(torch.zeros(3, 5)), "state_dim"),
        (lambda p: gaussian_log_prob(torch.zeros(3, 4), torch.zeros(3, 3)), "actions"),
        (lambda p: split_output(torch.zeros(3, 5)), "even"),
        (lambda p: apply_policy(p, torch.zeros(3, 2), per_task=True), "per_task"),
        (lambda p: apply_policy(p, torch.zeros(3, 2), dict(p.named_parameters()), per_task=True), "n_tasks"),
        (lambda p: GaussianMLPPolicy(hidden_sizes=(0,)), "hidden_sizes"),
        (lambda p: GaussianMLPPolicy(init_std=0.0), "init_std"),
        (lambda p: GaussianMLPPolicy(state_dim=0), "state_dim"),
    ],
)
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call(GaussianMLPPolicy(hidden_sizes=(4,)))
