"""ANIL: only the head adapts in the inner loop; the body is meta-learned in the outer loop only."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from gradients import finite_differences, max_diff, meta_grads
from torch import nn

from metalearn_lite import ANIL, MAML, Task
from metalearn_lite.data import sinusoid

DTYPE = torch.float64


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(1, 5), nn.Tanh())
        self.head = nn.Linear(5, 1)

    def forward(self, x):
        return self.head(self.body(x))


def tasks(n: int = 3) -> list[Task]:
    return sinusoid.sample_tasks(n, 4, n_query=5, generator=torch.Generator().manual_seed(1), dtype=DTYPE)


def test_only_the_head_is_adapted_and_the_body_is_read_as_it_is():
    net = Net().to(DTYPE)
    anil = ANIL(net, F.mse_loss, inner_lr=0.3, inner_steps=2)
    task = tasks(1)[0]
    fast = anil.adapt(task.x_support, task.y_support)
    assert sorted(fast) == ["head.bias", "head.weight"]
    # the adapted predictor is MAML's with the body's own weights and the head's fast weights
    maml = MAML(net, F.mse_loss, 0.3, 2)
    full = {**dict(net.named_parameters()), **fast}
    torch.testing.assert_close(anil(task.x_query, fast), maml(task.x_query, full))
    # and the head's fast weights are two SGD steps on the support loss with the body fixed
    w, b = net.head.weight.detach().clone().requires_grad_(), net.head.bias.detach().clone().requires_grad_()
    features = net.body(task.x_support).detach()
    for _ in range(2):
        gw, gb = torch.autograd.grad(F.mse_loss(features @ w.T + b, task.y_support), (w, b))
        w, b = (w - 0.3 * gw).detach().requires_grad_(), (b - 0.3 * gb).detach().requires_grad_()
    torch.testing.assert_close(fast["head.weight"], w, rtol=0, atol=1e-14)
    torch.testing.assert_close(fast["head.bias"], b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("path", ["loop", "vmap"])
@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_reaches_body_and_head_and_matches_finite_differences(path, first_order):
    anil = ANIL(Net().to(DTYPE), F.mse_loss, inner_lr=0.3, inner_steps=2, first_order=first_order, path=path)
    batch = tasks()
    grads = meta_grads(anil, batch)
    assert all(g.abs().max() > 0 for g in grads)
    if not first_order:
        assert max_diff(grads, finite_differences(anil, batch)) < 1e-7


def test_loop_and_vmap_paths_agree():
    results = []
    for path in ("loop", "vmap"):
        anil = ANIL(Net().to(DTYPE), F.mse_loss, 0.3, 2, learn_inner_lr=True, path=path)
        loss = anil.meta_loss(tasks())
        results.append((loss.item(), torch.autograd.grad(loss, list(anil.parameters()))))
    assert results[0][0] == pytest.approx(results[1][0], abs=1e-13)
    assert max_diff(list(results[0][1]), list(results[1][1])) < 1e-12
    assert len(ANIL(Net(), F.mse_loss, 0.3, learn_inner_lr=True).inner_lrs) == 2  # one per head tensor


def test_bad_head_name_is_refused_naming_the_parameters():
    with pytest.raises(ValueError, match="no parameter of the model is named 'classifier'"):
        ANIL(Net(), F.mse_loss, 0.3, head="classifier")
    with pytest.raises(TypeError, match="head"):
        ANIL(Net(), F.mse_loss, 0.3, head=3)


def test_the_body_runs_once_per_task_whatever_the_number_of_inner_steps():
    net = Net().to(DTYPE)
    calls = []
    net.body.register_forward_hook(lambda *_: calls.append(1))
    anil = ANIL(net, F.mse_loss, inner_lr=0.3, inner_steps=5, path="loop")
    anil.meta_loss(tasks(3)).backward()
    assert len(calls) == 3 * 2, "once on each task's support set, once on its query set"
    torch.testing.assert_close(anil.features(tasks(1)[0].x_query), net.body(tasks(1)[0].x_query))


class HeadNotLast(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(1, 1)

    def forward(self, x):
        return torch.tanh(self.head(x))  # something after the head: its input is not all that matters


def test_a_head_that_is_not_the_last_module_is_refused():
    anil = ANIL(HeadNotLast().to(DTYPE), F.mse_loss, inner_lr=0.1)
    task = tasks(1)[0]
    with pytest.raises(ValueError, match="'head' must be the network's last module"):
        anil.adapt(task.x_support, task.y_support)
