"""Proto-MAML: a head built from the support prototypes, then MAML; gradients through the prototypes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from gradients import finite_differences, max_diff
from torch import nn

from metalearn_lite import Task
from metalearn_lite.gradient import ProtoMAML
from metalearn_lite.gradient.anil import head_input
from metalearn_lite.metric import prototypical_logits

DTYPE = torch.float64


class Net(nn.Module):
    def __init__(self, n_way: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(4, 5), nn.Tanh())
        self.head = nn.Linear(5, n_way)

    def forward(self, x):
        return self.head(self.body(x))


def episode(seed: int = 1, n_way: int = 3, k: int = 2) -> Task:
    g = torch.Generator().manual_seed(seed)
    ys = torch.arange(n_way).repeat_interleave(k)
    yq = torch.arange(n_way).repeat_interleave(3)
    xs, xq = torch.randn(len(ys), 4, generator=g, dtype=DTYPE), torch.randn(len(yq), 4, generator=g, dtype=DTYPE)
    return Task(xs, ys, xq, yq)


def test_the_start_is_a_prototypical_network():
    net, task = Net().to(DTYPE), episode()
    learner = ProtoMAML(net, F.cross_entropy, inner_lr=0.1)
    start = learner.task_start(task.x_support, task.y_support)
    logits = learner.apply(start, task.x_query)
    z_support, z_query = net.body(task.x_support), net.body(task.x_query)
    # 2 cᵀz - ||c||² = -||z - c||² + ||z||²: the prototypical scores plus a constant per query
    expected = prototypical_logits(z_support, task.y_support, z_query) + z_query.pow(2).sum(-1, keepdim=True)
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(head_input(net, "head", task.x_query), z_query)


@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_matches_finite_differences_and_reaches_the_body_through_the_prototypes(first_order):
    net = Net().to(DTYPE)
    learner = ProtoMAML(net, F.cross_entropy, inner_lr=0.3, inner_steps=2, first_order=first_order)
    tasks = [episode(1), episode(2)]
    body = [p for n, p in learner.named_parameters() if not n.startswith("model.head")]
    grads = list(torch.autograd.grad(learner.meta_loss(tasks), body))
    assert all(g.abs().sum() > 0 for g in grads), "the body learns, through the inner loop and the prototypes"
    if not first_order:  # the exact meta-gradient: second-order terms and the path through the prototypes
        numeric = [g for (n, _), g in zip(learner.named_parameters(), finite_differences(learner, tasks), strict=True)
                   if not n.startswith("model.head")]
        assert max_diff(grads, numeric) < 1e-7
    # the model's own head is never used: every task builds its head from the prototypes
    assert all(g.abs().max() == 0 for n, g in zip([n for n, _ in learner.named_parameters()],
                                                  finite_differences(learner, tasks[:1]), strict=True)
               if n.startswith("model.head"))


def test_the_model_head_must_be_a_linear_layer():
    with pytest.raises(ValueError, match="head must name an nn.Linear"):
        ProtoMAML(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), F.cross_entropy, head="1")
