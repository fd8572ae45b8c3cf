"""Pair and triplet losses: contrastive and triplet (plus batch-hard and semi-hard mining).

Two of the three losses the source article lists under "3.1 基于度量学习的元学习" (the third, center
loss, is in :mod:`~metalearn_lite.metric.center_loss`). Each shapes an embedding space so that
examples of one class lie close together and examples of different classes far apart; §3.1
(``notebooks/03_metric_learning.ipynb``) trains an Omniglot embedding with each and shows the geometry.

* Contrastive loss: Hadsell, Chopra & LeCun (2006), "Dimensionality reduction by learning an
  invariant mapping", eq. 4 (with a squared hinge on the distance of dissimilar pairs).
* Triplet loss: Schroff, Kalenichenko & Philbin (2015), "FaceNet", eq. 1; semi-hard negatives
  from their §3.2; batch-hard mining from Hermans, Beyer & Leibe (2017), "In defense of the
  triplet loss for person re-identification", eq. 5.

Functional forms come first (like ``torch.nn.functional``, with ``reduction=``), thin
``nn.Module`` wrappers after them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import checks
from ..reduction import REDUCTIONS, reduce_loss

__all__ = [
    "BatchHardTripletLoss",
    "ContrastiveLoss",
    "SemiHardTripletLoss",
    "TripletLoss",
    "batch_hard_triplet_loss",
    "check_embeddings",
    "contrastive_loss",
    "pairwise_distances",
    "semi_hard_triplet_loss",
    "triplet_loss",
]


def _check_margin(margin: object) -> float:
    return checks.number("margin", margin, 0.0)


def check_embeddings(embeddings: object, labels: object, name: str = "embeddings") -> None:
    """``embeddings`` a ``(batch, dim)`` float tensor and ``labels`` its ``(batch,)`` class indices."""
    checks.tensor(name, embeddings, dim=2, floating=True)
    checks.labels("labels", labels, length=embeddings.shape[0])


def pairwise_distances(embeddings: Tensor) -> Tensor:
    """Euclidean distance between every two rows, exactly 0 on the diagonal.

    Computed from differences rather than ``|a|^2 - 2ab + |b|^2`` (which can go slightly negative);
    the gradient of a zero distance is 0, not NaN.

    Shapes:
        embeddings ``(batch, dim)`` -> ``(batch, batch)``.
    """
    return torch.linalg.vector_norm(embeddings[:, None, :] - embeddings[None, :, :], dim=-1)


def contrastive_loss(x1: Tensor, x2: Tensor, same: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """``1/2 s d^2 + 1/2 (1 - s) max(0, m - d)^2`` per pair, ``d = ||x1 - x2||`` (Hadsell et al., eq. 4).

    Similar pairs (``same = 1``) are pulled together; dissimilar pairs are pushed apart until they
    are ``margin`` away, and then left alone.

    Shapes:
        x1, x2 ``(n, dim)``, same ``(n,)`` with values in {0, 1} -> scalar, or ``(n,)`` for
        ``reduction="none"``.
    """
    if x1.shape != x2.shape or x1.dim() != 2:
        raise ValueError(f"x1 and x2 must be (n, dim) of one shape, got {tuple(x1.shape)} and {tuple(x2.shape)}")
    if same.shape != x1.shape[:1]:
        raise ValueError(f"same must have shape ({x1.shape[0]},), got {tuple(same.shape)}")
    if not ((same == 0) | (same == 1)).all():
        raise ValueError("same must contain only 0 (dissimilar) and 1 (similar)")
    _check_margin(margin)
    same = same.to(x1.dtype)
    squared = (x1 - x2).pow(2).sum(dim=1)
    distance = torch.linalg.vector_norm(x1 - x2, dim=1)
    losses = 0.5 * same * squared + 0.5 * (1 - same) * (margin - distance).clamp(min=0).pow(2)
    return reduce_loss(losses, reduction)


def triplet_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """``max(0, ||a - p|| - ||a - n|| + margin)`` per triplet (FaceNet eq. 1, with plain distances).

    Agrees with ``torch.nn.functional.triplet_margin_loss`` (which adds ``eps = 1e-6`` inside the
    norm). FaceNet uses squared distances and ``margin = 0.2`` on unit-length embeddings; the
    default here is torch's.

    Shapes:
        anchor, positive, negative ``(n, dim)`` -> scalar, or ``(n,)`` for ``reduction="none"``.
    """
    if not (anchor.shape == positive.shape == negative.shape) or anchor.dim() != 2:
        raise ValueError(
            f"anchor, positive and negative must be (n, dim) of one shape, got {tuple(anchor.shape)}, "
            f"{tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    _check_margin(margin)
    d_ap = torch.linalg.vector_norm(anchor - positive, dim=1)
    d_an = torch.linalg.vector_norm(anchor - negative, dim=1)
    return reduce_loss((d_ap - d_an + margin).clamp(min=0), reduction)


def batch_hard_triplet_loss(
    embeddings: Tensor, labels: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """Triplet loss with, for every anchor, its farthest positive and nearest negative in the batch.

    Hermans et al. (2017), eq. 5; batches of P classes x K examples suit it (an
    :class:`~metalearn_lite.data.EpisodeSampler` with ``n_way=P, k_shot=K, n_query=0`` draws one).
    Anchors without a positive or without a negative in the batch are skipped.

    Shapes:
        embeddings ``(batch, dim)``, labels ``(batch,)`` -> scalar, or ``(n_anchors,)`` for
        ``reduction="none"``.

    Raises:
        ValueError: no anchor has both a positive and a negative.
    """
    check_embeddings(embeddings, labels)
    _check_margin(margin)
    distances = pairwise_distances(embeddings)  # (batch, batch)
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    negative = ~same
    valid = positive.any(dim=1) & negative.any(dim=1)
    if not valid.any():
        raise ValueError("batch_hard_triplet_loss needs an anchor with both a positive and a negative in the batch")
    hardest_positive = distances.masked_fill(~positive, float("-inf")).amax(dim=1)
    hardest_negative = distances.masked_fill(~negative, float("inf")).amin(dim=1)
    return reduce_loss((hardest_positive[valid] - hardest_negative[valid] + margin).clamp(min=0), reduction)


def semi_hard_triplet_loss(
    embeddings: Tensor, labels: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """Triplet loss over every anchor-positive pair of the batch with a semi-hard negative.

    FaceNet §3.2: a negative is *semi-hard* when it is farther from the anchor than the positive
    but still inside the margin, ``d(a,p) < d(a,n) < d(a,p) + margin``. For each pair we take the
    closest negative that is farther than the positive (its loss is zero if it lies beyond the
    margin). When every negative is closer than the positive, we fall back to the farthest
    negative, as TensorFlow Addons' ``triplet_semihard_loss`` does.

    Shapes:
        embeddings ``(batch, dim)``, labels ``(batch,)`` -> scalar, or ``(n_pairs,)`` for
        ``reduction="none"`` (one entry per ordered anchor-positive pair).

    Raises:
        ValueError: no anchor-positive pair has a negative in the batch.
    """
    check_embeddings(embeddings, labels)
    _check_margin(margin)
    distances = pairwise_distances(embeddings)
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    anchor_idx, positive_idx = torch.nonzero(positive, as_tuple=True)
    negative = ~same[anchor_idx]  # (n_pairs, batch)
    keep = negative.any(dim=1)
    if not keep.any():
        raise ValueError("semi_hard_triplet_loss needs an anchor-positive pair with a negative in the batch")
    anchor_idx, positive_idx, negative = anchor_idx[keep], positive_idx[keep], negative[keep]
    d_ap = distances[anchor_idx, positive_idx]  # (n_pairs,)
    d_an = distances[anchor_idx]  # (n_pairs, batch)
    farther = negative & (d_an > d_ap[:, None])
    semi_hard = d_an.masked_fill(~farther, float("inf")).amin(dim=1)
    fallback = d_an.masked_fill(~negative, float("-inf")).amax(dim=1)
    d_chosen = torch.where(farther.any(dim=1), semi_hard, fallback)
    return reduce_loss((d_ap - d_chosen + margin).clamp(min=0), reduction)


class _MarginLoss(nn.Module):
    """What the module forms share: a margin and a reduction, checked when the module is built."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        self.margin = _check_margin(margin)
        self.reduction = checks.one_of("reduction", reduction, REDUCTIONS)


class ContrastiveLoss(_MarginLoss):
    """Module form of :func:`contrastive_loss`: ``forward(x1, x2, same)``."""

    def forward(self, x1: Tensor, x2: Tensor, same: Tensor) -> Tensor:
        return contrastive_loss(x1, x2, same, self.margin, self.reduction)


class TripletLoss(_MarginLoss):
    """Module form of :func:`triplet_loss`: ``forward(anchor, positive, negative)``."""

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_loss(anchor, positive, negative, self.margin, self.reduction)


class BatchHardTripletLoss(TripletLoss):
    """Module form of :func:`batch_hard_triplet_loss`: ``forward(embeddings, labels)``."""

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        return batch_hard_triplet_loss(embeddings, labels, self.margin, self.reduction)


class SemiHardTripletLoss(TripletLoss):
    """Module form of :func:`semi_hard_triplet_loss`: ``forward(embeddings, labels)``."""

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        return semi_hard_triplet_loss(embeddings, labels, self.margin, self.reduction)
