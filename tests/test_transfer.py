"""The pretrain-then-fine-tune baseline (Chen et al. 2019): pretraining loss, a new head per task, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metalearn_lite import Task
from metalearn_lite.gradient import CosineClassifier, TransferBaseline


def blobs(generator: torch.Generator, n_way: int = 3, k: int = 4, dim: int = 6) -> Task:
    centres = 4 * torch.randn(n_way, dim, generator=generator)
    def draw(n):
        y = torch.arange(n_way).repeat_interleave(n)
        return centres[y] + 0.3 * torch.randn(len(y), dim, generator=generator), y
    (xs, ys), (xq, yq) = draw(k), draw(5)
    return Task(xs, ys, xq, yq)


def test_cosine_classifier_is_scaled_cosine_similarity(generator):
    head = CosineClassifier(4, 3, scale=7.0, generator=generator)
    z = torch.randn(5, 4, generator=generator)
    expected = 7.0 * F.cosine_similarity(z[:, None, :], head.weight[None, :, :], dim=-1)
    torch.testing.assert_close(head(z), expected)
    torch.testing.assert_close(head(3 * z), head(z))  # the length of a feature does not matter


@pytest.mark.parametrize("head", ["linear", "cosine"])
def test_a_new_head_on_frozen_features_separates_well_separated_classes(head, generator):
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6))
    baseline = TransferBaseline(encoder, feature_dim=6, n_classes=10, head=head)
    before = {k: v.clone() for k, v in baseline.state_dict().items()}
    baseline.train()
    task = blobs(generator)
    predicted = baseline.predict(task)
    assert predicted.shape == (15,) and (predicted == task.y_query).float().mean() > 0.9
    # the encoder, its running statistics and the pretraining head are untouched, and the mode is kept
    assert all(torch.equal(before[k], v) for k, v in baseline.state_dict().items()) and baseline.encoder.training


def test_pretraining_loss_is_cross_entropy_over_all_training_classes(generator):
    encoder = nn.Linear(6, 8)
    baseline = TransferBaseline(encoder, feature_dim=8, n_classes=5)
    x, y = torch.randn(7, 6, generator=generator), torch.randint(5, (7,), generator=generator)
    torch.testing.assert_close(baseline.loss(x, y), F.cross_entropy(baseline.classifier(encoder(x)), y))
    with pytest.raises(ValueError, match="y"):
        baseline.loss(x, torch.full((7,), 5))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="head must be one of"):
        TransferBaseline(nn.Linear(2, 2), 2, 3, head="knn")
    with pytest.raises(ValueError, match="finetune_steps"):
        TransferBaseline(nn.Linear(2, 2), 2, 3, finetune_steps=0)
    with pytest.raises(TypeError, match="encoder"):
        TransferBaseline("conv4", 2, 3)
