"""The LSTM optimizer: preprocessing, the unrolled meta-gradient, meta-training, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_lite.checks import NonFiniteLossError
from metalearn_lite.data.optimizees import sample_quadratics
from metalearn_lite.gradient import (
    LSTMOptimizer,
    best_learning_rate,
    geometric_mean,
    meta_train_optimizer,
    optimize,
    optimize_with,
)
from metalearn_lite.gradient.learned_optimizer import preprocess_gradients

DTYPE = torch.float64


def small_optimizer(seed: int = 0) -> LSTMOptimizer:
    torch.manual_seed(seed)
    return LSTMOptimizer(hidden_size=3, num_layers=2, output_scale=0.5).to(DTYPE)


def test_preprocessing_is_log_magnitude_and_sign_or_the_scaled_value_when_tiny():
    grad = torch.tensor([2.0, -1e-2, 3e-6, -1e-5], dtype=DTYPE)
    out = preprocess_gradients(grad, p=10.0)
    # |g| >= e^-10 ≈ 4.54e-5: (log|g| / 10, sign); below it: (-1, e^10 g)
    expected = torch.tensor([[math.log(2.0) / 10, 1.0], [math.log(1e-2) / 10, -1.0],
                             [-1.0, math.exp(10) * 3e-6], [-1.0, -math.exp(10) * 1e-5]], dtype=DTYPE)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_optimize_is_the_hand_written_loop():
    opt = small_optimizer()
    problems = sample_quadratics(3, dim=4, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
    loss_of_params, params = problems.problem()
    run = optimize(opt, loss_of_params, params, steps=5)
    theta, state, losses = params["theta"].reshape(-1), opt.initial_state(12, params["theta"]), []
    for _ in range(5):
        W, y = problems.W, problems.y
        residual = torch.einsum("pij,pj->pi", W, theta.view(3, 4)) - y
        losses.append(residual.pow(2).sum(-1))
        grad = 2 * torch.einsum("pij,pi->pj", W, residual).reshape(-1)  # ∇ ||Wθ - y||² = 2 Wᵀ(Wθ - y)
        with torch.no_grad():
            update, state = opt(grad, state)
        theta = theta + update
    losses.append(problems({"theta": theta.view(3, 4)}))
    torch.testing.assert_close(run.losses, torch.stack(losses), rtol=0, atol=1e-12)
    torch.testing.assert_close(run.params["theta"], theta.view(3, 4), rtol=0, atol=1e-12)
    assert not run.losses.requires_grad and not run.params["theta"].requires_grad
    assert torch.equal(params["theta"], problems.theta0), "optimize must not change the starting point"


def test_meta_gradient_through_the_unroll_matches_finite_differences():
    # A loss whose gradient does not depend on θ: dropping the second derivatives (the paper's
    # simplification) is then exact, so the unrolled meta-gradient must equal finite differences.
    opt = small_optimizer()
    c = torch.tensor([0.3, -2.0, 1e-3, 0.7], dtype=DTYPE)
    start = {"theta": torch.tensor([1.0, 0.5, -0.2, 0.1], dtype=DTYPE)}

    def meta_loss() -> torch.Tensor:
        return optimize(opt, lambda p: (c * p["theta"]).sum() + 0.0, start, steps=4, keep_graph=True).losses[1:].sum()

    grads = torch.autograd.grad(meta_loss(), list(opt.parameters()))
    eps = 1e-6
    for p, g in zip(opt.parameters(), grads, strict=True):
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += eps
                up = meta_loss().item()
                p.view(-1)[i] -= 2 * eps
                down = meta_loss().item()
                p.view(-1)[i] += eps
            assert abs((up - down) / (2 * eps) - g.view(-1)[i].item()) < 1e-7


def test_optimize_with_runs_torch_optimizers_and_leaves_the_start_alone():
    problems = sample_quadratics(2, dim=3, generator=torch.Generator().manual_seed(2), dtype=DTYPE)
    loss_of_params, params = problems.problem()
    run = optimize_with(torch.optim.SGD, loss_of_params, params, 3, lr=0.01)
    theta = params["theta"].clone()
    for _ in range(3):
        residual = torch.einsum("pij,pj->pi", problems.W, theta) - problems.y
        theta = theta - 0.01 * 2 * torch.einsum("pij,pi->pj", problems.W, residual)
    torch.testing.assert_close(run.params["theta"], theta, rtol=0, atol=1e-12)
    assert run.losses.shape == (4, 2) and torch.equal(params["theta"], problems.theta0)


def test_geometric_mean_and_the_fair_tuning_of_hand_designed_optimizers():
    losses = torch.tensor([[1.0, 100.0], [0.01, 1.0]], dtype=DTYPE)
    torch.testing.assert_close(geometric_mean(losses), torch.tensor([10.0, 0.1], dtype=DTYPE))
    problems = sample_quadratics(16, generator=torch.Generator().manual_seed(4))
    best, scores = best_learning_rate(torch.optim.SGD, *problems.problem(), [1e-4, 1e-2, 10.0], 30)
    # 1e-4 barely moves, 10 diverges on every problem (the Hessians' largest eigenvalues are far above 0.2)
    assert best == 1e-2 and scores[10.0] == float("inf") and scores[1e-2] < scores[1e-4]
    with pytest.raises(ValueError, match="grid must be a non-empty list"):
        best_learning_rate(torch.optim.SGD, *problems.problem(), [], 30)


def test_quadratics_have_the_stated_shapes_and_a_zero_minimum():
    problems = sample_quadratics(5, dim=10, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    assert problems.W.shape == (5, 10, 10) and problems.y.shape == problems.theta0.shape == (5, 10)
    assert problems({"theta": problems.theta0}).shape == (5,)
    assert problems.minimum().abs().max() < 1e-12


def test_meta_training_lowers_the_meta_objective_of_held_out_problems():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = LSTMOptimizer()
    held_out = sample_quadratics(64, generator=torch.Generator().manual_seed(99))

    def objective() -> float:
        return optimize(opt, *held_out.problem(), steps=20).losses[1:].log().mean().item()

    before = objective()
    history = meta_train_optimizer(opt, lambda: sample_quadratics(32, generator=g).problem(), 40,
                                   horizon=20, unroll=10, outer_lr=3e-3, objective="log", progress=False)
    assert len(history["loss"]) == 40
    # measured: about 3.3 before and 1.0 after (seed 0); the untrained LSTM barely moves θ
    assert objective() < before - 1.0


def test_a_non_finite_objective_stops_meta_training_before_the_step():
    opt = small_optimizer().float()
    before = {k: v.clone() for k, v in opt.state_dict().items()}

    def problem():
        return (lambda p: p["theta"].sum() * float("inf")), {"theta": torch.ones(3)}

    with pytest.raises(NonFiniteLossError, match="step 0"):
        meta_train_optimizer(opt, problem, 1, horizon=4, unroll=2, progress=False)
    assert all(torch.equal(before[k], v) for k, v in opt.state_dict().items())


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"horizon": 30, "unroll": 20}, ValueError, "horizon must be a multiple of unroll"),
    ({"objective": "mse"}, ValueError, "objective"),
    ({"outer_lr": -1.0}, ValueError, "outer_lr"),
    ({"iterations": 0}, ValueError, "iterations"),
])
def test_meta_training_refuses_bad_settings(kwargs, error, match):
    settings = {"iterations": 1, **kwargs}
    with pytest.raises(error, match=match):
        meta_train_optimizer(LSTMOptimizer(), lambda: sample_quadratics(2).problem(), progress=False, **settings)


def test_bad_arguments_are_named():
    opt = LSTMOptimizer()
    with pytest.raises(TypeError, match="params must be a non-empty dict of tensors"):
        optimize(opt, lambda p: p, torch.zeros(3), 2)
    with pytest.raises(TypeError, match="optimizer_class"):
        optimize_with("adam", lambda p: p["x"].sum(), {"x": torch.zeros(2)}, 2)
    with pytest.raises(ValueError, match="hidden_size"):
        LSTMOptimizer(hidden_size=0)
    with pytest.raises(TypeError, match="grad"):
        preprocess_gradients([1.0, 2.0])
