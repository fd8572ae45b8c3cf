"""Reptile's update against a hand computation on linear regression, and its validation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metalearn_lite import MAML, Reptile, Task

DTYPE = torch.float64


def linear_tasks(n: int, dim: int = 3, seed: int = 0) -> list[Task]:
    g = torch.Generator().manual_seed(seed)
    tasks = []
    for _ in range(n):
        w_true = torch.randn(dim, 1, generator=g, dtype=DTYPE)
        x_support = torch.randn(5, dim, generator=g, dtype=DTYPE)
        x_query = torch.randn(4, dim, generator=g, dtype=DTYPE)
        tasks.append(Task(x_support, x_support @ w_true, x_query, x_query @ w_true))
    return tasks


def linear_model(dim: int = 3) -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(dim, 1, bias=False).to(DTYPE)


@pytest.mark.parametrize("n_tasks", [1, 3])  # 1: serial Reptile (Algorithm 1); 3: batched (Algorithm 2)
@pytest.mark.parametrize("inner_steps", [1, 4])
def test_meta_step_equals_the_hand_computation(n_tasks, inner_steps):
    model = linear_model()
    reptile = Reptile(model, F.mse_loss, inner_lr=0.05, inner_steps=inner_steps, outer_lr=0.3)
    tasks = linear_tasks(n_tasks)
    theta = model.weight.detach().clone().T  # (dim, 1)
    mean_phi = torch.zeros_like(theta)
    for t in tasks:
        phi = theta.clone()
        for _ in range(inner_steps):  # gradient of mean((X phi - y)^2)
            phi -= 0.05 * 2 * t.x_support.T @ (t.x_support @ phi - t.y_support) / len(t.x_support)
        mean_phi += phi / n_tasks
    reptile.meta_step(tasks)
    expected = theta + 0.3 * (mean_phi - theta)
    assert torch.allclose(model.weight.detach().T, expected, atol=1e-14)


def test_meta_step_returns_the_mean_query_loss_after_adaptation():
    model = linear_model()
    reptile = Reptile(model, F.mse_loss, inner_lr=0.05, inner_steps=2, outer_lr=0.3)
    tasks = linear_tasks(2)
    adapted = [reptile.adapt(t.x_support, t.y_support) for t in tasks]
    expected = sum(F.mse_loss(reptile(t.x_query, p), t.y_query).item() for t, p in zip(tasks, adapted, strict=True)) / 2
    assert reptile.meta_step(tasks) == pytest.approx(expected, abs=1e-14)


def test_adapt_is_plain_sgd_like_first_order_maml_and_detached():
    model = linear_model()
    task = linear_tasks(1)[0]
    reptile = Reptile(model, F.mse_loss, inner_lr=0.05, inner_steps=3, outer_lr=1.0)
    maml = MAML(model, F.mse_loss, inner_lr=0.05, inner_steps=3, first_order=True)
    fast, reference = reptile.adapt(task.x_support, task.y_support), maml.adapt(task.x_support, task.y_support)
    assert torch.allclose(fast["weight"], reference["weight"], atol=1e-15)
    assert not fast["weight"].requires_grad


def test_outer_lr_one_moves_theta_to_the_adapted_weights():
    model = linear_model()
    task = linear_tasks(1)[0]
    reptile = Reptile(model, F.mse_loss, inner_lr=0.05, inner_steps=3, outer_lr=1.0)
    fast = reptile.adapt(task.x_support, task.y_support)
    reptile.meta_step([task])
    assert torch.allclose(model.weight, fast["weight"], atol=1e-15)


@pytest.mark.parametrize(("name", "kwargs"), [
    ("inner_lr", {"inner_lr": 0}), ("inner_lr", {"inner_lr": -1.0}), ("outer_lr", {"outer_lr": 0}),
    ("outer_lr", {"outer_lr": math.nan}), ("inner_steps", {"inner_steps": 0}),
])
def test_rejects_bad_hyperparameters(name, kwargs):
    args = {"inner_lr": 0.1, "inner_steps": 2, "outer_lr": 0.5} | kwargs
    with pytest.raises(ValueError, match=name):
        Reptile(linear_model(), F.mse_loss, **args)


def test_rejects_bad_tasks_and_non_finite_losses():
    reptile = Reptile(linear_model(), F.mse_loss, inner_lr=0.1, inner_steps=2, outer_lr=0.5)
    with pytest.raises(ValueError, match="non-empty"):
        reptile.meta_step([])
    tasks = linear_tasks(2)
    tasks[1] = tasks[1]._replace(y_query=tasks[1].y_query[:-1])
    with pytest.raises(ValueError, match=r"tasks\[1\]\.y_query"):
        reptile.meta_step(tasks)
    tasks = linear_tasks(2)
    tasks[1] = tasks[1]._replace(x_support=tasks[1].x_support * math.inf)
    before = reptile.model.weight.detach().clone()
    with pytest.raises(ValueError, match="task 1 at inner step 0"):
        reptile.meta_step(tasks)
    assert torch.equal(reptile.model.weight, before), "a failed step leaves the weights alone"
