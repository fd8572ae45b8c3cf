"""CAVIA: the meta-gradient against finite differences and a hand-unrolled reference, the two paths
against each other, the per-task reset of the context, that only the context adapts, and bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from gradients import finite_differences, max_diff, meta_grads
from torch import nn

from metalearn_lite import CAVIA, MAML, Task
from metalearn_lite.data import sinusoid
from metalearn_lite.gradient.cavia import with_context
from metalearn_lite.nets import MLP
from metalearn_lite.training import adaptation_losses

DTYPE = torch.float64
N_CONTEXT = 3


def smooth_net(seed: int = 0, n_context: int = N_CONTEXT) -> nn.Module:
    """A tiny tanh network taking 1 data feature plus the context: smooth, so central differences
    are accurate everywhere."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1 + n_context, 5), nn.Tanh(), nn.Linear(5, 1)).to(DTYPE)


def sine_tasks(n: int, k: int = 4, seed: int = 1) -> list[Task]:
    return sinusoid.sample_tasks(n, k, n_query=k + 1, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)


# --- the meta-gradient ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["loop", "vmap"])
@pytest.mark.parametrize("inner_steps", [1, 3])
def test_meta_gradient_matches_finite_differences(path, inner_steps):
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=inner_steps, path=path)
    tasks = sine_tasks(3)
    analytic = meta_grads(cavia, tasks)
    assert max_diff(analytic, finite_differences(cavia, tasks)) < 1e-7
    assert max(g.abs().max().item() for g in analytic) > 1e-3, "the meta-gradient is not trivially zero"


def test_meta_gradient_matches_a_hand_unrolled_reference():
    """The same computation written out for the tanh net, with the context as an explicit column block."""
    net = smooth_net()
    cavia = CAVIA(net, F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=2)
    tasks = sine_tasks(4)
    w1, b1, w2, b2 = net[0].weight, net[0].bias, net[2].weight, net[2].bias

    def f(x, context):  # (n, 1), (N_CONTEXT,) -> (n, 1)
        hidden = x @ w1[:, :1].T + context @ w1[:, 1:].T + b1
        return torch.tanh(hidden) @ w2.T + b2

    total = 0.0
    for t in tasks:
        context = torch.zeros(N_CONTEXT, dtype=DTYPE, requires_grad=True)
        for _ in range(2):
            support_loss = ((f(t.x_support, context) - t.y_support) ** 2).mean()
            (g,) = torch.autograd.grad(support_loss, context, create_graph=True)
            context = context - 0.5 * g
        total = total + ((f(t.x_query, context) - t.y_query) ** 2).mean() / len(tasks)
    assert cavia.meta_loss(tasks).item() == pytest.approx(total.item(), abs=1e-13)
    assert max_diff(meta_grads(cavia, tasks), list(torch.autograd.grad(total, [w1, b1, w2, b2]))) < 1e-12


@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_first_order_is_the_query_gradient_at_the_adapted_context(path):
    net = smooth_net()
    tasks = sine_tasks(3)
    first = CAVIA(net, F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=2, first_order=True, path=path)
    expected = [torch.zeros_like(p) for p in net.parameters()]
    for t in tasks:
        context = {k: v.detach() for k, v in first.adapt(t.x_support, t.y_support).items()}
        query_loss = F.mse_loss(first(t.x_query, context), t.y_query)
        for e, g in zip(expected, torch.autograd.grad(query_loss, list(net.parameters())), strict=True):
            e += g / len(tasks)
    got = meta_grads(first, tasks)
    assert max_diff(got, expected) < 1e-14
    second = CAVIA(net, F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=2, path=path)
    assert max_diff(got, meta_grads(second, tasks)) > 1e-4, "the second-order terms are not zero here"


@pytest.mark.parametrize("first_order", [False, True])
@pytest.mark.parametrize("inner_steps", [1, 3])
def test_vmap_path_equals_loop_path(first_order, inner_steps):
    torch.manual_seed(0)
    net = MLP(1 + 5, hidden=(16, 16)).to(DTYPE)
    tasks = sine_tasks(5, k=10)
    results = []
    for path in ("loop", "vmap"):
        cavia = CAVIA(net, F.mse_loss, 5, inner_lr=0.3, inner_steps=inner_steps, first_order=first_order, path=path)
        loss = cavia.meta_loss(tasks)
        results.append((loss, torch.autograd.grad(loss, list(cavia.parameters()))))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert abs(loss_a.item() - loss_b.item()) < 1e-13
    assert max_diff(list(grads_a), list(grads_b)) < 1e-12


def test_auto_path_is_vmap_for_equal_shapes_and_loop_for_ragged_tasks():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT)
    assert cavia.path_for(sine_tasks(3)) == "vmap"
    assert cavia.path_for(sine_tasks(2, k=4) + sine_tasks(1, k=5)) == "loop"
    ragged = sine_tasks(2, k=4) + sine_tasks(1, k=5)
    assert torch.isfinite(cavia.meta_loss(ragged))


# --- what adapts, and the reset ---------------------------------------------------------------


def test_only_the_context_changes_in_the_inner_loop():
    net = smooth_net()
    cavia = CAVIA(net, F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=3)
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    task = sine_tasks(1)[0]
    fast = cavia.adapt(task.x_support, task.y_support)
    assert list(fast) == ["context"]
    context = fast["context"]
    assert isinstance(context, torch.Tensor) and context.shape == (N_CONTEXT,)
    assert context.abs().max() > 1e-3, "the context moved"
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed during adaptation"
    # The adapted predictor is the *unchanged* network applied to [x, context]:
    assert torch.equal(cavia(task.x_query, fast), net(with_context(task.x_query, context)))
    # and the adapted context is exactly three SGD steps on the support loss from zero:
    c = torch.zeros(N_CONTEXT, dtype=DTYPE, requires_grad=True)
    for _ in range(3):
        (g,) = torch.autograd.grad(F.mse_loss(net(with_context(task.x_support, c)), task.y_support), c)
        c = (c - 0.5 * g).detach().requires_grad_()
    assert torch.allclose(context, c, atol=1e-14)
    # The meta-parameters are the network's weights and nothing else:
    assert [n for n, _ in cavia.named_parameters()] == [f"model.{n}" for n, _ in net.named_parameters()]


def test_context_is_reset_to_zero_for_every_task():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT, inner_lr=0.5, inner_steps=2)
    t1, t2, t3 = sine_tasks(3)
    assert torch.equal(cavia.initial_params()["context"], torch.zeros(N_CONTEXT, dtype=DTYPE))
    # adapt has no hidden state: the same task gives the same context, whatever was adapted before.
    first = cavia.adapt(t2.x_support, t2.y_support)["context"].detach()
    cavia.adapt(t1.x_support, t1.y_support)
    assert torch.equal(cavia.adapt(t2.x_support, t2.y_support)["context"].detach(), first)
    zeros = {"context": torch.zeros(N_CONTEXT, dtype=DTYPE)}
    assert torch.equal(cavia.adapt(t2.x_support, t2.y_support, params=zeros)["context"], first)
    # The meta-loss of a batch is the mean of the tasks' own meta-losses, in any order, on both paths.
    for path in ("loop", "vmap"):
        cavia.path = path
        alone = [cavia.meta_loss([t]).item() for t in (t1, t2, t3)]
        assert cavia.meta_loss([t1, t2, t3]).item() == pytest.approx(sum(alone) / 3, abs=1e-14)
        assert cavia.meta_loss([t3, t1, t2]).item() == pytest.approx(sum(alone) / 3, abs=1e-14)


def test_continuing_from_a_context_equals_more_steps():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT, inner_lr=0.5)
    task = sine_tasks(1)[0]
    with torch.no_grad():
        two = cavia.adapt(task.x_support, task.y_support, inner_steps=2)
        one_then_one = cavia.adapt(task.x_support, task.y_support,
                                   params=cavia.adapt(task.x_support, task.y_support, inner_steps=1), inner_steps=1)
    assert not two["context"].requires_grad
    assert torch.allclose(two["context"], one_then_one["context"], atol=1e-15)


def test_works_with_adaptation_losses_and_adapts_far_fewer_numbers_than_maml():
    torch.manual_seed(0)
    cavia = CAVIA(MLP(1 + 5).to(DTYPE), F.mse_loss, 5, inner_lr=0.5)
    maml = MAML(MLP().to(DTYPE), F.mse_loss, 0.01)
    losses = adaptation_losses(cavia, sine_tasks(4, k=10), max_inner_steps=3)
    assert losses.shape == (4, 4) and torch.isfinite(losses).all()
    n_maml = sum(p.numel() for p in maml.parameters())
    assert cavia.num_context_params == 5 and n_maml == 1 * 40 + 40 + 40 * 40 + 40 + 40 + 1


def test_gradients_reach_the_weights_but_never_leak_into_a_stored_context():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT)
    cavia.meta_loss(sine_tasks(2)).backward()
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in cavia.parameters())
    assert not any(isinstance(v, torch.Tensor) and v.requires_grad for v in vars(cavia).values())


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_context_params": 0}, "num_context_params"),
    ({"num_context_params": 2.5}, "num_context_params"),
    ({"inner_lr": 0.0}, "inner_lr"),
    ({"inner_lr": math.nan}, "inner_lr"),
    ({"inner_steps": 0}, "inner_steps"),
    ({"path": "batched"}, "path"),
    ({"first_order": "no"}, "first_order"),
])
def test_rejects_bad_hyperparameters(kwargs, match):
    args = {"num_context_params": N_CONTEXT, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        CAVIA(smooth_net(), F.mse_loss, **args)


def test_rejects_bad_model_and_loss():
    with pytest.raises(TypeError, match="model"):
        CAVIA(lambda x: x, F.mse_loss)
    with pytest.raises(TypeError, match="loss_fn"):
        CAVIA(smooth_net(), "mse")
    with pytest.raises(ValueError, match="first layer takes 4 inputs"):
        CAVIA(smooth_net(), F.mse_loss, num_context_params=4)


def test_rejects_inputs_of_the_wrong_width_naming_the_argument():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT)
    task = sine_tasks(1)[0]
    wide = torch.cat([task.x_support, task.x_support], dim=1)
    with pytest.raises(ValueError, match=r"x_support has 2 features per example, but the model expects 1"):
        cavia.adapt(wide, task.y_support)
    with pytest.raises(ValueError, match=r"tasks\[1\].x_support has 2 features"):
        cavia.meta_loss([task, Task(wide, task.y_support, torch.cat([task.x_query] * 2, 1), task.y_query)])
    with pytest.raises(ValueError, match="x must be"):
        cavia(task.x_support[:, 0])


def test_rejects_a_bad_context():
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT)
    task = sine_tasks(1)[0]
    with pytest.raises(TypeError, match=r"params must be a dict with the keys \['context'\]"):
        cavia.adapt(task.x_support, task.y_support, params=torch.zeros(2, dtype=DTYPE))
    with pytest.raises(ValueError, match=r"params\['context'\] must have shape \(3,\)"):
        cavia.adapt(task.x_support, task.y_support, params={"context": torch.zeros(2, dtype=DTYPE)})
    with pytest.raises(TypeError, match="context"):
        cavia(task.x_query, params=[0.0, 0.0, 0.0])


@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_rejects_empty_tasks_and_mismatched_shapes(path):
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT, path=path)
    with pytest.raises(ValueError, match="non-empty"):
        cavia.meta_loss([])
    task = sine_tasks(1)[0]
    with pytest.raises(ValueError, match="y_support"):
        cavia.meta_loss([Task(task.x_support, task.y_support[:-1], task.x_query, task.y_query)])
    with pytest.raises(ValueError, match="y_support"):
        cavia.adapt(task.x_support, task.y_support[:-1])


@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_non_finite_inner_loss_names_the_task_and_step(path):
    cavia = CAVIA(smooth_net(), F.mse_loss, N_CONTEXT, inner_steps=2, path=path)
    tasks = sine_tasks(3)
    bad = tasks[2]
    tasks[2] = Task(bad.x_support, torch.full_like(bad.y_support, math.inf), bad.x_query, bad.y_query)
    with pytest.raises(ValueError, match="task 2 at inner step 0"):
        cavia.meta_loss(tasks)
