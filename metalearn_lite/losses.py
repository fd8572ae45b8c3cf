"""Metric-learning losses: contrastive, triplet (plus batch-hard and semi-hard mining) and center loss.

The three losses the source article lists under "3.1 基于度量学习的元学习". Each shapes an embedding
space so that examples of one class lie close together and examples of different classes far
apart; chapter 3.1 trains an Omniglot embedding with each and shows the geometry.

* Contrastive loss: Hadsell, Chopra & LeCun (2006), "Dimensionality reduction by learning an
  invariant mapping", eq. 4 (with a squared hinge on the distance of dissimilar pairs).
* Triplet loss: Schroff, Kalenichenko & Philbin (2015), "FaceNet", eq. 1; semi-hard negatives
  from their §3.2; batch-hard mining from Hermans, Beyer & Leibe (2017), "In defense of the
  triplet loss for person re-identification", eq. 5.
* Center loss: Wen, Zhang, Li & Qiao (2016), "A discriminative feature learning approach for deep
  face recognition", eq. 2 to 4 and their Algorithm 1.

Functional forms come first (like ``torch.nn.functional``, with ``reduction=``), thin
``nn.Module`` wrappers after them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "BatchHardTripletLoss",
    "CenterLoss",
    "ContrastiveLoss",
    "SemiHardTripletLoss",
    "TripletLoss",
    "batch_hard_triplet_loss",
    "center_loss",
    "center_update",
    "contrastive_loss",
    "pairwise_distances",
    "reduce_loss",
    "semi_hard_triplet_loss",
    "triplet_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(losses: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) to per-example ``losses``, as the
    ``reduction=`` argument of ``torch.nn.functional`` losses does; anything else raises."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_margin(margin: float) -> None:
    if not margin >= 0:
        raise ValueError(f"margin must be a number >= 0, got {margin!r}")


def _check_batch(embeddings: Tensor, labels: Tensor) -> None:
    if embeddings.dim() != 2:
        raise ValueError(f"embeddings must be (batch, dim), got shape {tuple(embeddings.shape)}")
    if labels.shape != embeddings.shape[:1] or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(
            f"labels must be ({embeddings.shape[0]},) integers, got {labels.dtype} {tuple(labels.shape)}"
        )


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
    _check_batch(embeddings, labels)
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
    _check_batch(embeddings, labels)
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


def center_loss(features: Tensor, labels: Tensor, centers: Tensor, reduction: str = "mean") -> Tensor:
    """``1/2 ||x_i - c_{y_i}||^2`` per example (Wen et al., eq. 2).

    Wen et al. *sum* over the mini-batch (``reduction="sum"``); the mean makes the weight
    ``lambda`` independent of the batch size.

    Shapes:
        features ``(batch, feat_dim)``, labels ``(batch,)`` in ``0 .. num_classes - 1``,
        centers ``(num_classes, feat_dim)`` -> scalar, or ``(batch,)`` for ``reduction="none"``.
    """
    _check_batch(features, labels)
    if centers.dim() != 2 or centers.shape[1] != features.shape[1]:
        raise ValueError(f"centers must be (num_classes, {features.shape[1]}), got {tuple(centers.shape)}")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= len(centers)):
        raise ValueError(f"labels must lie in 0 .. {len(centers) - 1}, got {int(labels.min())} .. {int(labels.max())}")
    return reduce_loss(0.5 * (features - centers[labels]).pow(2).sum(dim=1), reduction)


def center_update(features: Tensor, labels: Tensor, centers: Tensor, alpha: float = 0.5) -> Tensor:
    """Wen et al.'s center update (eq. 4 and Algorithm 1): the new centers, ``centers`` untouched.

    ``delta_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)`` and ``c_j <- c_j - alpha * delta_j``: each
    center moves towards the mean of its class in the batch, by the fraction
    ``alpha * n_j / (1 + n_j)`` of the way; centers of classes absent from the batch stay put.

    Shapes:
        features ``(batch, feat_dim)``, labels ``(batch,)``, centers ``(num_classes, feat_dim)``
        -> ``(num_classes, feat_dim)``.
    """
    center_loss(features, labels, centers)  # validates shapes and labels
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    features = features.detach().to(centers.dtype)
    counts = torch.bincount(labels, minlength=len(centers)).to(centers.dtype)[:, None]  # (num_classes, 1)
    sums = torch.zeros_like(centers).index_add_(0, labels, features)
    delta = (counts * centers - sums) / (1 + counts)
    return centers - alpha * delta


class ContrastiveLoss(nn.Module):
    """Module form of :func:`contrastive_loss`: ``forward(x1, x2, same)``."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        _check_margin(margin)
        self.margin, self.reduction = margin, reduction

    def forward(self, x1: Tensor, x2: Tensor, same: Tensor) -> Tensor:
        return contrastive_loss(x1, x2, same, self.margin, self.reduction)


class TripletLoss(nn.Module):
    """Module form of :func:`triplet_loss`: ``forward(anchor, positive, negative)``."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        _check_margin(margin)
        self.margin, self.reduction = margin, reduction

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


class CenterLoss(nn.Module):
    """Center loss with Wen et al.'s center update; use as ``L = L_softmax + lambda * L_C``.

    ``forward(features, labels)`` returns ``L_C`` and leaves the centers alone; after the
    optimiser step, call :meth:`update_centers` with the same (detached) features. The centers
    are a *buffer* named ``centers`` (saved in ``state_dict``, invisible to optimisers), zero at
    the start (Wen et al.'s code draws them at random; the update makes the start irrelevant).

    **Versus "centers as parameters".** Many reimplementations make the centers an
    ``nn.Parameter`` and let the optimiser move them by the gradient of ``lambda * L_C``. That
    couples the centers' step to the learning rate, to ``lambda`` and to the batch size, and under
    Adam each center moves by roughly the learning rate per step whatever its distance to its
    class; weight decay would also pull them to the origin. Wen et al.'s rule instead moves
    center ``j`` a fixed fraction ``alpha * n_j / (1 + n_j)`` of the way to its class's batch mean,
    independent of the optimiser of the network, and the ``1 +`` keeps rarely seen classes from
    jumping to a single example.

    Args:
        num_classes: number of classes (rows of ``centers``).
        feat_dim: length of a feature vector.
        alpha: the centers' learning rate (Wen et al. use 0.5).
        reduction: ``"mean"`` (default), ``"sum"`` (the paper) or ``"none"``.

    Shapes:
        features ``(batch, feat_dim)``, labels ``(batch,)`` -> scalar; ``centers``
        ``(num_classes, feat_dim)``.
    """

    centers: Tensor

    def __init__(self, num_classes: int, feat_dim: int, alpha: float = 0.5, reduction: str = "mean") -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("feat_dim", feat_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        reduce_loss(torch.zeros(1), reduction)  # validates reduction
        self.alpha, self.reduction = alpha, reduction
        self.register_buffer("centers", torch.zeros(num_classes, feat_dim))

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        return center_loss(features, labels, self.centers, self.reduction)

    @torch.no_grad()
    def update_centers(self, features: Tensor, labels: Tensor) -> None:
        """Apply :func:`center_update` to the buffer in place."""
        self.centers.copy_(center_update(features, labels, self.centers, self.alpha))
