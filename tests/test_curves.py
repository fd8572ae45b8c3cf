"""Adaptation curves (``gradient.curves``) and Reptile's batched step: the vmap path and the loop path
compute the numbers that one ``learner.adapt`` step after another computes, for every learner kind."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metalearn_lite import ANIL, CAVIA, MAML, Reptile, Task
from metalearn_lite.checks import NonFiniteLossError
from metalearn_lite.gradient import ProtoMAML
from metalearn_lite.training import adaptation_losses

DTYPE = torch.float64


def regression_tasks(n: int = 4, seed: int = 0) -> list[Task]:
    g = torch.Generator().manual_seed(seed)
    tasks = []
    for _ in range(n):
        w = torch.randn(3, 1, generator=g, dtype=DTYPE)
        xs, xq = torch.randn(6, 3, generator=g, dtype=DTYPE), torch.randn(5, 3, generator=g, dtype=DTYPE)
        tasks.append(Task(xs, torch.sin(xs @ w), xq, torch.sin(xq @ w)))
    return tasks


def mlp(inputs: int = 3, outputs: int = 1) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(inputs, 8), nn.Tanh(), nn.Linear(8, outputs)).to(DTYPE)


LEARNERS = {
    "maml": lambda path: MAML(mlp(), F.mse_loss, inner_lr=0.1, path=path),
    "meta-sgd": lambda path: MAML(mlp(), F.mse_loss, inner_lr=0.1, learn_inner_lr=True, path=path),
    "anil": lambda path: ANIL(mlp(), F.mse_loss, inner_lr=0.1, head="2", path=path),
    "cavia": lambda path: CAVIA(mlp(inputs=5), F.mse_loss, num_context_params=2, inner_lr=0.5, path=path),
    "reptile": lambda path: Reptile(mlp(), F.mse_loss, inner_lr=0.1, inner_steps=3, outer_lr=0.5, path=path),
}


def reference_curve(learner, tasks: list[Task], steps: int) -> torch.Tensor:
    """One ``learner.adapt`` step after another from the task's start, task after task: what the curve must equal."""
    rows = []
    with torch.no_grad():
        for t in tasks:
            params, row = learner.task_start(t.x_support, t.y_support), []
            for s in range(steps + 1):
                if s:
                    params = learner.adapt(t.x_support, t.y_support, params=params, inner_steps=1)
                row.append(learner.loss_fn(learner(t.x_query, params), t.y_query).item())
            rows.append(row)
    return torch.tensor(rows, dtype=DTYPE)


@pytest.mark.parametrize("kind", LEARNERS)
@pytest.mark.parametrize("path", ["vmap", "loop"])
def test_the_curve_equals_successive_adapt_steps(kind, path):
    learner, tasks = LEARNERS[kind](path), regression_tasks()
    curve = adaptation_losses(learner, tasks, 4)
    assert curve.shape == (4, 5) and curve.dtype == DTYPE
    assert torch.allclose(curve, reference_curve(learner, tasks, 4), rtol=1e-10, atol=1e-12)
    assert (curve[:, 1:] != curve[:, :-1]).all(), "every inner step changes the query loss"


def test_proto_maml_starts_each_task_from_its_own_prototype_head():
    """Column 0 is the loss at the prototype head, not at the model's own (meta-learned) head."""
    torch.manual_seed(0)
    learner = ProtoMAML(nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to(DTYPE), head="2")
    g = torch.Generator().manual_seed(1)
    tasks = [Task(torch.randn(6, 4, generator=g, dtype=DTYPE), torch.arange(3).repeat(2),
                  torch.randn(9, 4, generator=g, dtype=DTYPE), torch.arange(3).repeat(3)) for _ in range(3)]
    curve = adaptation_losses(learner, tasks, 3)
    assert torch.allclose(curve, reference_curve(learner, tasks, 3), atol=1e-12)
    own_head = torch.tensor([F.cross_entropy(learner(t.x_query), t.y_query).item() for t in tasks], dtype=DTYPE)
    assert not torch.allclose(curve[:, 0], own_head), "the start is the prototype head"


def test_zero_steps_is_the_loss_at_the_start_and_bad_steps_are_refused():
    learner, tasks = LEARNERS["maml"]("vmap"), regression_tasks(2)
    start = torch.tensor([F.mse_loss(learner(t.x_query), t.y_query).item() for t in tasks], dtype=DTYPE)
    assert torch.allclose(adaptation_losses(learner, tasks, 0)[:, 0], start)
    with pytest.raises(ValueError, match="max_inner_steps"):
        adaptation_losses(learner, tasks, -1)


@pytest.mark.parametrize("path", ["vmap", "loop"])
def test_a_diverging_inner_loop_is_reported_not_returned(path):
    learner = MAML(nn.Linear(3, 1).to(DTYPE), F.mse_loss, inner_lr=1e100, path=path)
    with pytest.raises(NonFiniteLossError, match="inner"):
        adaptation_losses(learner, regression_tasks(2), 5)


def test_reptile_takes_the_same_step_on_both_paths():
    tasks = regression_tasks(3)
    results = {}
    for path in ("vmap", "loop"):
        reptile = LEARNERS["reptile"](path)
        loss = reptile.meta_step(tasks)
        results[path] = loss, torch.cat([p.detach().flatten() for p in reptile.parameters()])
    assert results["vmap"][0] == pytest.approx(results["loop"][0], rel=1e-12)
    assert torch.allclose(results["vmap"][1], results["loop"][1], rtol=1e-12, atol=1e-14)


def test_reptile_leaves_the_weights_unchanged_when_an_inner_loss_diverges():
    for path in ("vmap", "loop"):
        reptile = Reptile(nn.Linear(3, 1).to(DTYPE), F.mse_loss, inner_lr=1e100, inner_steps=5, outer_lr=0.5, path=path)
        before = [p.detach().clone() for p in reptile.parameters()]
        with pytest.raises(NonFiniteLossError):
            reptile.meta_step(regression_tasks(2))
        assert all(torch.equal(a, b) for a, b in zip(before, reptile.parameters(), strict=True)), path
