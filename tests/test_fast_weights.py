"""The fast-weights kernel (``metalearn_lite.gradient.fast_weights``): the one inner loop of every
gradient-based learner, checked against a hand-written loop, its two gradient engines against each
other, and the per-task application and path rule."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from metalearn_lite.gradient import adapt, call_per_task, choose_path
from metalearn_lite.gradient.fast_weights import prefers_vmap
from metalearn_lite.nets import MLP, ConvNet4
from metalearn_lite.tasks import Task

DTYPE = torch.float64


def tiny() -> tuple[nn.Module, dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).to(DTYPE)
    x = torch.randn(6, 2, dtype=DTYPE)
    y = torch.randn(6, 1, dtype=DTYPE)
    return model, dict(model.named_parameters()), x, y


def loss_of(model, x, y):
    return lambda p: F.mse_loss(functional_call(model, p, (x,)), y)


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_adapt_equals_a_hand_written_sgd_loop(inner_steps):
    model, params, x, y = tiny()
    fast, losses = adapt(loss_of(model, x, y), params, 0.3, inner_steps)
    expected = [p.detach().clone().requires_grad_() for p in model.parameters()]
    hand_losses = []
    for _ in range(inner_steps):
        out = torch.tanh(x @ expected[0].T + expected[1]) @ expected[2].T + expected[3]
        loss = ((out - y) ** 2).mean()
        hand_losses.append(loss.item())
        grads = torch.autograd.grad(loss, expected)
        expected = [(p - 0.3 * g).detach().requires_grad_() for p, g in zip(expected, grads, strict=True)]
    for got, want in zip(fast.values(), expected, strict=True):
        torch.testing.assert_close(got.detach(), want.detach(), rtol=0, atol=1e-14)
    torch.testing.assert_close(losses, torch.tensor(hand_losses, dtype=DTYPE), rtol=0, atol=1e-14)


@pytest.mark.parametrize("first_order", [False, True])
def test_functional_and_autograd_engines_agree_in_value_and_meta_gradient(first_order):
    model, params, x, y = tiny()
    xq, yq = x + 0.5, y - 0.2
    results = []
    for functional in (False, True):
        fast, _ = adapt(loss_of(model, x, y), params, 0.2, 2, first_order=first_order, functional=functional)
        query = F.mse_loss(functional_call(model, fast, (xq,)), yq)
        results.append((query, torch.autograd.grad(query, list(params.values()))))
    (qa, ga), (qb, gb) = results
    torch.testing.assert_close(qa, qb, rtol=0, atol=1e-14)
    for a, b in zip(ga, gb, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-13)


def test_per_parameter_step_sizes_are_applied_entry_by_entry():
    model, params, x, y = tiny()
    lrs = {k: torch.full_like(v, 0.1 * (i + 1)) for i, (k, v) in enumerate(params.items())}
    fast, _ = adapt(loss_of(model, x, y), params, lrs, 1)
    grads = torch.autograd.grad(loss_of(model, x, y)(params), list(params.values()))
    for (name, value), grad in zip(params.items(), grads, strict=True):
        torch.testing.assert_close(fast[name], value - lrs[name] * grad)


def test_no_grad_gives_detached_fast_weights_and_first_order_has_no_second_derivatives():
    model, params, x, y = tiny()
    with torch.no_grad():
        fast, _ = adapt(loss_of(model, x, y), params, 0.1, 2)
    assert not any(v.requires_grad for v in fast.values())
    fast, _ = adapt(loss_of(model, x, y), params, 0.1, 1, first_order=True)
    # first order: d(fast)/d(params) is the identity, whatever the loss's curvature
    (grad,) = torch.autograd.grad(fast["0.bias"].sum(), params["0.bias"])
    torch.testing.assert_close(grad, torch.ones_like(grad))


def test_the_kernel_runs_under_vmap_over_tasks():
    model, params, _, _ = tiny()
    xs, ys = torch.randn(3, 5, 2, dtype=DTYPE), torch.randn(3, 5, 1, dtype=DTYPE)
    batched, losses = vmap(lambda x, y: adapt(loss_of(model, x, y), params, 0.1, 2, functional=True))(xs, ys)
    assert losses.shape == (3, 2)
    for i in range(3):
        one, _ = adapt(loss_of(model, xs[i], ys[i]), params, 0.1, 2)
        for name in params:
            torch.testing.assert_close(batched[name][i], one[name], rtol=0, atol=1e-13)


def test_a_non_scalar_loss_is_refused():
    model, params, x, y = tiny()
    with pytest.raises(ValueError, match="loss_fn must return a scalar"):
        adapt(lambda p: (functional_call(model, p, (x,)) - y) ** 2, params, 0.1)


def test_call_per_task_applies_each_tasks_own_weights():
    model, params, _, _ = tiny()
    stacked = {k: torch.stack([v + i for i in range(3)]) for k, v in params.items()}
    x = torch.randn(3, 4, 2, dtype=DTYPE)
    out = call_per_task(model, stacked, x)
    for i in range(3):
        torch.testing.assert_close(out[i], functional_call(model, {k: v[i] for k, v in stacked.items()}, (x[i],)))
    with pytest.raises(ValueError, match="leading n_tasks"):
        call_per_task(model, stacked, x[:2])


def test_path_rule():
    mlp, conv = MLP(), ConvNet4(hidden_channels=4)
    same = [Task(torch.zeros(3, 1), torch.zeros(3, 1), torch.zeros(4, 1), torch.zeros(4, 1))] * 2
    ragged = [same[0], Task(torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(4, 1), torch.zeros(4, 1))]
    assert prefers_vmap(mlp) and not prefers_vmap(conv) and not prefers_vmap(nn.BatchNorm1d(3))
    assert choose_path("auto", mlp, same) == "vmap"
    assert choose_path("auto", mlp, ragged) == "loop"
    assert choose_path("auto", conv, same) == "loop"
    assert choose_path("vmap", conv, same) == "vmap"
