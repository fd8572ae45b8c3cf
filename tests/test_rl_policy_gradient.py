"""The policy-gradient estimators on a one-step Gaussian bandit, where every answer is analytic.

Policy a ~ N(μ, σ²), reward r(a) = −(a − c)², so J(μ, log σ) = E[r] = −((μ − c)² + σ²) and
∂J/∂μ = −2(μ − c), ∂J/∂log σ = −2σ², ∂²J/∂μ² = −2. Each test draws M independent estimates
(one per "task" row, each averaging N samples) and compares their mean with the analytic value
within 4 standard errors, and checks that this tolerance is below 10 % of the value, so a bias
of that size would fail the test.
"""

import math

import pytest
import torch

from metalearn_lite.rl import (
    Trajectories,
    compute_advantages,
    gaussian_log_prob,
    sample_actions,
    surrogate_loss,
)

MU, SIGMA, C = 0.3, 0.8, 1.0
M, N = 4000, 50


def bandit(seed: int, estimator: str = "reinforce", baseline: str = "zero"):
    """M per-row parameters (μ_i, log σ_i), N actions per row, and the surrogate loss of each row."""
    mu = torch.full((M, 1), MU, dtype=torch.float64, requires_grad=True)
    log_std = torch.full((M, 1), math.log(SIGMA), dtype=torch.float64, requires_grad=True)
    output = torch.cat([mu, log_std], dim=1)[:, None, :].expand(M, N, 2)  # packed, action_dim = 1
    actions = sample_actions(output, torch.Generator().manual_seed(seed))  # (M, N, 1)
    rewards = -(actions[..., 0] - C) ** 2
    if baseline == "zero":
        advantages = rewards
    elif baseline == "constant":
        advantages = rewards - 5.0
    else:  # leave-one-out mean of the other samples: independent of each sample's own action
        advantages = rewards - (rewards.sum(1, keepdim=True) - rewards) / (N - 1)
    log_probs = gaussian_log_prob(output, actions)
    losses = surrogate_loss(log_probs, advantages, estimator=estimator, reduction="none")  # (M,)
    return mu, log_std, losses


def check_mean(estimates: torch.Tensor, expected: float) -> None:
    standard_error = estimates.std().item() / math.sqrt(len(estimates))
    assert 4 * standard_error < 0.1 * abs(expected), "the test has too little power to detect a 10 % bias"
    assert abs(estimates.mean().item() - expected) < 4 * standard_error, (estimates.mean().item(), expected)


@pytest.mark.parametrize("estimator", ["reinforce", "lvc"])
@pytest.mark.parametrize("baseline", ["zero", "constant", "leave_one_out"])
def test_gradient_estimator_is_unbiased_on_a_bandit(estimator, baseline):
    mu, log_std, losses = bandit(0, estimator, baseline)
    grad_mu, grad_log_std = torch.autograd.grad(-losses.sum(), [mu, log_std])  # row i: estimate i of ∇J
    check_mean(grad_mu[:, 0], -2 * (MU - C))
    check_mean(grad_log_std[:, 0], -2 * SIGMA**2)


def test_a_baseline_reduces_variance():
    variances = {}
    for baseline in ("constant", "leave_one_out"):
        mu, _, losses = bandit(1, baseline=baseline)
        variances[baseline] = torch.autograd.grad(-losses.sum(), mu)[0].var().item()
    assert variances["leave_one_out"] < 0.5 * variances["constant"]


def test_lvc_curvature_is_unbiased_and_reinforce_curvature_is_not():
    """ProMP's point: the REINFORCE surrogate's Hessian misses E[∇log π ∇log π^T r]."""
    second = {}
    for estimator in ("reinforce", "lvc"):
        mu, _, losses = bandit(2, estimator)
        (grad,) = torch.autograd.grad(-losses.sum(), mu, create_graph=True)
        second[estimator] = torch.autograd.grad(grad.sum(), mu)[0][:, 0]  # row i: estimate of ∂²J/∂μ²
    check_mean(second["lvc"], -2.0)
    # E[∂²log π/∂μ² · r] = −E[r] / σ², a different (here even positive) number
    check_mean(second["reinforce"], ((MU - C) ** 2 + SIGMA**2) / SIGMA**2)


def test_lvc_and_reinforce_have_equal_values_up_to_a_constant_and_equal_gradients():
    mu_r, _, loss_r = bandit(3, "reinforce", "constant")
    mu_l, _, loss_l = bandit(3, "lvc", "constant")
    torch.testing.assert_close(torch.autograd.grad(loss_r.sum(), mu_r)[0], torch.autograd.grad(loss_l.sum(), mu_l)[0])


def test_surrogate_averages_valid_steps_per_task():
    log_probs = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    advantages = torch.tensor([[1.0, 1.0, 100.0], [2.0, 2.0, 2.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    per_task = surrogate_loss(log_probs, advantages, mask, reduction="none")
    torch.testing.assert_close(per_task, torch.tensor([-1.5, -2.0]))
    torch.testing.assert_close(surrogate_loss(log_probs, advantages, mask), torch.tensor(-1.75))


def test_advantages_are_normalised_per_task_over_valid_steps():
    generator = torch.Generator().manual_seed(0)
    shape = (3, 4, 10)
    mask = torch.ones(shape)
    mask[0, :, 6:] = 0
    batch = Trajectories(torch.randn(*shape, 2, generator=generator), torch.randn(*shape, 2, generator=generator),
                         torch.randn(shape, generator=generator) * mask, mask)
    adv = compute_advantages(batch)
    for i in range(3):
        valid = adv[i][mask[i] > 0]
        assert abs(valid.mean()) < 1e-5 and abs(valid.std(unbiased=False) - 1) < 1e-4
    assert (adv[mask == 0] == 0).all() and not adv.requires_grad


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimator": "dice"}, "estimator"),
        ({"reduction": "max"}, "reduction"),
        ({"advantages": torch.zeros(2, 4)}, "advantages"),
        ({"mask": torch.zeros(2, 4)}, "mask"),
    ],
)
def test_bad_input_raises(kwargs, message):
    args = {"log_probs": torch.zeros(2, 3), "advantages": torch.zeros(2, 3)} | kwargs
    with pytest.raises(ValueError, match=message):
        surrogate_loss(**args)
