"""Relation networks: class means paired with queries, scores in [0, 1], the MSE loss, gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metalearn_lite import Task
from metalearn_lite.metric import RelationNetwork

DTYPE = torch.float64


def learner() -> RelationNetwork:
    torch.manual_seed(0)
    return RelationNetwork(nn.Linear(3, 4), embedding_dim=4, hidden=5).to(DTYPE)


def episode(generator) -> Task:
    ys, yq = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([2, 0, 1, 1])
    xs, xq = torch.randn(6, 3, generator=generator, dtype=DTYPE), torch.randn(4, 3, generator=generator, dtype=DTYPE)
    return Task(xs, ys, xq, yq)


def test_scores_pair_each_class_mean_with_each_query(generator):
    net, task = learner(), episode(generator)
    scores = net(task.x_support, task.y_support, task.x_query)
    assert scores.shape == (4, 3) and ((scores > 0) & (scores < 1)).all()
    z_support, z_query = net.encoder(task.x_support), net.encoder(task.x_query)
    for q in range(4):
        for c in range(3):
            pair = torch.cat([z_support[task.y_support == c].mean(0), z_query[q]])
            torch.testing.assert_close(scores[q, c], torch.sigmoid(net.relation(pair)).squeeze(), rtol=0, atol=1e-12)
    shuffled = torch.randperm(6, generator=generator)  # the order of the support set does not matter
    torch.testing.assert_close(net(task.x_support[shuffled], task.y_support[shuffled], task.x_query), scores)


def test_loss_is_mse_against_one_hot_and_its_gradient_is_exact(generator):
    net, task = learner(), episode(generator)
    scores = net(task.x_support, task.y_support, task.x_query)
    torch.testing.assert_close(net.loss(task), F.mse_loss(scores, F.one_hot(task.y_query, 3).to(DTYPE)))
    z_support = net.encoder(task.x_support).detach().requires_grad_()
    z_query = net.encoder(task.x_query).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda s, q: net.logits_from_embeddings(s, task.y_support, q),
                                    (z_support, z_query))


def test_bad_query_labels_are_named(generator):
    task = episode(generator)
    with pytest.raises(ValueError, match="y_query"):
        learner().loss(Task(task.x_support, task.y_support, task.x_query, torch.tensor([0, 1, 2, 3])))
