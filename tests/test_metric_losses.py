import pytest
import torch
import torch.nn.functional as F

from metalearn_lite.metric import (
    BatchHardTripletLoss,
    CenterLoss,
    ContrastiveLoss,
    SemiHardTripletLoss,
    TripletLoss,
    batch_hard_triplet_loss,
    center_loss,
    center_update,
    contrastive_loss,
    pairwise_distances,
    semi_hard_triplet_loss,
    triplet_loss,
)

# --- contrastive ---------------------------------------------------------------------------


def test_contrastive_by_hand():
    x1 = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    x2 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 2.0]])
    same = torch.tensor([1, 0, 0])
    # distances 1, 5, 1; margin 2: similar -> 1/2 * 1; far dissimilar -> 0; near dissimilar -> 1/2 * (2 - 1)^2
    per_pair = contrastive_loss(x1, x2, same, margin=2.0, reduction="none")
    assert torch.allclose(per_pair, torch.tensor([0.5, 0.0, 0.5]))
    assert torch.isclose(contrastive_loss(x1, x2, same, margin=2.0), torch.tensor(1.0 / 3))
    assert torch.isclose(contrastive_loss(x1, x2, same, margin=6.0, reduction="sum"), torch.tensor(0.5 + 0.5 + 12.5))
    assert torch.isclose(ContrastiveLoss(margin=2.0, reduction="sum")(x1, x2, same.float()), torch.tensor(1.0))


def test_contrastive_gradient_of_identical_similar_pair_is_zero():
    x = torch.randn(3, 4, requires_grad=True)
    contrastive_loss(x, x.detach().clone(), torch.ones(3)).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().max() == 0


def test_contrastive_gradcheck(generator):
    x1 = torch.randn(6, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    x2 = torch.randn(6, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    same = torch.tensor([1, 0, 1, 0, 0, 1], dtype=torch.float64)
    # margin 10: every dissimilar pair is inside the margin, away from the hinge's kink
    assert torch.autograd.gradcheck(lambda a, b: contrastive_loss(a, b, same, margin=10.0), (x1, x2))


# --- triplet -------------------------------------------------------------------------------


def test_triplet_by_hand():
    anchor = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    positive = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    negative = torch.tensor([[0.0, 2.0], [0.0, 5.0]])
    # (5 - 2 + 1) = 4 and max(0, 1 - 5 + 1) = 0
    assert torch.allclose(triplet_loss(anchor, positive, negative, reduction="none"), torch.tensor([4.0, 0.0]))
    assert torch.isclose(TripletLoss(margin=0.5)(anchor, positive, negative), torch.tensor(3.5 / 2))


@pytest.mark.parametrize("margin", [0.1, 0.2, 1.0, 3.0])  # torch rejects margin 0
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_agrees_with_torch(generator, margin, reduction):
    a, p, n = (torch.randn(32, 8, generator=generator, dtype=torch.float64) for _ in range(3))
    ours = triplet_loss(a, p, n, margin=margin, reduction=reduction)
    theirs = F.triplet_margin_loss(a, p, n, margin=margin, reduction=reduction)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_triplet_gradcheck(generator):
    a, p, n = (torch.randn(5, 3, generator=generator, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda a, p, n: triplet_loss(a, p, n, margin=20.0), (a, p, n))


# --- mining --------------------------------------------------------------------------------


def _batch(generator, dtype=torch.float64):
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3])  # class 3 has no positive
    return torch.randn(len(labels), 4, generator=generator, dtype=dtype), labels


def test_pairwise_distances(generator):
    x, _ = _batch(generator)
    assert torch.allclose(pairwise_distances(x), torch.cdist(x, x), atol=1e-10)
    assert (pairwise_distances(x).diagonal() == 0).all()


def test_batch_hard_matches_a_loop(generator):
    x, labels = _batch(generator)
    expected = []
    for a in range(len(labels)):
        d_pos = [torch.dist(x[a], x[p]) for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        d_neg = [torch.dist(x[a], x[n]) for n in range(len(labels)) if labels[n] != labels[a]]
        if d_pos and d_neg:
            expected.append(torch.clamp(max(d_pos) - min(d_neg) + 0.7, min=0))
    ours = batch_hard_triplet_loss(x, labels, margin=0.7, reduction="none")
    assert len(ours) == 8  # the lonely example of class 3 is no anchor
    assert torch.allclose(ours, torch.stack(expected))
    assert torch.isclose(BatchHardTripletLoss(margin=0.7)(x, labels), torch.stack(expected).mean())


def test_semi_hard_matches_a_loop(generator):
    x, labels = _batch(generator)
    margin = 1.5
    expected = []
    for a in range(len(labels)):
        for p in range(len(labels)):
            if p == a or labels[p] != labels[a]:
                continue
            d_ap = torch.dist(x[a], x[p])
            d_neg = [torch.dist(x[a], x[n]) for n in range(len(labels)) if labels[n] != labels[a]]
            farther = [d for d in d_neg if d > d_ap]
            d_an = min(farther) if farther else max(d_neg)
            expected.append(torch.clamp(d_ap - d_an + margin, min=0))
    ours = semi_hard_triplet_loss(x, labels, margin=margin, reduction="none")
    assert torch.allclose(ours, torch.stack(expected))
    assert torch.isclose(SemiHardTripletLoss(margin=margin)(x, labels), torch.stack(expected).mean())


def test_semi_hard_falls_back_to_the_farthest_negative():
    # 1-D: anchor 0, positive at 3, negatives at 1 and 2 (both closer than the positive)
    x = torch.tensor([[0.0], [3.0], [1.0], [2.0]])
    labels = torch.tensor([0, 0, 1, 1])
    per_pair = semi_hard_triplet_loss(x, labels, margin=0.5, reduction="none")
    # pairs in row-major order: (0,1), (1,0), (2,3), (3,2)
    assert torch.isclose(per_pair[0], torch.tensor(3.0 - 2.0 + 0.5))  # fallback: farthest negative, 2
    # anchor 3, positive 0 (distance 3): negatives at distances 2 and 1, both closer -> fallback 2
    assert torch.isclose(per_pair[1], torch.tensor(3.0 - 2.0 + 0.5))
    # anchor 1 (a negative class), positive 2: negatives 0 (d 1) and 3 (d 2) -> semi-hard candidate 3 (d 2)
    assert torch.isclose(per_pair[2], torch.tensor(max(0.0, 1.0 - 2.0 + 0.5)))


@pytest.mark.parametrize("loss", [batch_hard_triplet_loss, semi_hard_triplet_loss])
def test_mining_gradcheck(generator, loss):
    x, labels = _batch(generator)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda e: loss(e, labels, margin=20.0), (x,))


@pytest.mark.parametrize("loss", [batch_hard_triplet_loss, semi_hard_triplet_loss])
def test_mining_needs_positives_and_negatives(loss):
    with pytest.raises(ValueError, match="needs an anchor"):
        loss(torch.randn(3, 2), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="needs an anchor"):
        loss(torch.randn(3, 2), torch.tensor([4, 4, 4]))
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        loss(torch.randn(3, 2), torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="embeddings must have 2 dimensions"):
        loss(torch.randn(3), torch.tensor([0, 1, 1]))


# --- center loss ---------------------------------------------------------------------------


def test_center_loss_by_hand():
    features = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    labels = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # 1/2 * [1, 4, 8]
    assert torch.allclose(center_loss(features, labels, centers, reduction="none"), torch.tensor([0.5, 2.0, 4.0]))
    assert torch.isclose(center_loss(features, labels, centers), torch.tensor(6.5 / 3))


def test_center_update_follows_the_formula():
    features = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    labels = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])
    # class 0: n=2, delta = ((c - x1) + (c - x3)) / 3 = ((0, 1) + (-2, -3)) / 3 = (-2/3, -2/3)
    # class 1: n=1, delta = (c - x2) / 2 = (0, -1);  class 2: absent, delta = 0
    new = center_update(features, labels, centers, alpha=0.5)
    expected = torch.tensor([[1.0 + 1 / 3, 1.0 + 1 / 3], [0.0, 0.5], [5.0, 5.0]])
    assert torch.allclose(new, expected)
    assert torch.equal(centers, torch.tensor([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])), "functional form must not mutate"


def test_center_loss_module_forward_leaves_centers_and_update_applies_rule(generator):
    module = CenterLoss(num_classes=3, feat_dim=4, alpha=0.3)
    assert "centers" in module.state_dict() and not list(module.parameters())
    module.centers.copy_(torch.randn(3, 4, generator=generator))
    before = module.centers.clone()
    features = torch.randn(6, 4, generator=generator, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    loss = module(features, labels)
    loss.backward()
    assert torch.equal(module.centers, before)
    assert torch.allclose(features.grad, (features - before[labels]).detach() / 6)  # d(mean 1/2|x-c|^2)/dx
    module.update_centers(features, labels)
    assert torch.allclose(module.centers, center_update(features, labels, before, alpha=0.3))


def test_center_loss_gradcheck(generator):
    features = torch.randn(5, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    centers = torch.randn(2, 3, dtype=torch.float64, generator=generator)
    labels = torch.tensor([0, 1, 1, 0, 1])
    assert torch.autograd.gradcheck(lambda f: center_loss(f, labels, centers), (features,))


def test_repeated_updates_converge_to_class_means(generator):
    features = torch.randn(40, 2, generator=generator) + torch.tensor([4.0, -4.0]) * torch.arange(2).repeat(20)[:, None]
    labels = torch.arange(2).repeat(20)
    module = CenterLoss(2, 2, alpha=0.5)
    for _ in range(60):
        module.update_centers(features, labels)
    means = torch.stack([features[labels == c].mean(0) for c in range(2)])
    assert torch.allclose(module.centers, means, atol=1e-4)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(2)), "x1 and x2"),
        (lambda: contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3)), "same must have shape"),
        (lambda: contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0.5, 1])), "only 0"),
        (lambda: contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2), margin=-1), "margin"),
        (lambda: triplet_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3)), "one shape"),
        (lambda: triplet_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), reduction="avg"), "reduction"),
        (lambda: center_loss(torch.zeros(2, 3), torch.tensor([0, 2]), torch.zeros(2, 3)), "labels must lie"),
        (lambda: center_loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 4)), "centers must be"),
        (lambda: center_update(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 3), alpha=2.0), "alpha"),
        (lambda: CenterLoss(0, 3), "num_classes"),
        (lambda: CenterLoss(2, 3, alpha=-0.1), "alpha"),
        (lambda: CenterLoss(2, 3, reduction="max"), "reduction"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_public_names_exist():
    import importlib

    center_module = importlib.import_module("metalearn_lite.metric.center_loss")
    losses = importlib.import_module("metalearn_lite.metric.losses")

    for module in (losses, center_module):
        for name in module.__all__:
            assert hasattr(module, name)
