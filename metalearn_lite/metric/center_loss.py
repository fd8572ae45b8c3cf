"""Center loss (Wen, Zhang, Li & Qiao, 2016), the third loss of the article's §3.1.

"A discriminative feature learning approach for deep face recognition", eq. 2 to 4 and their
Algorithm 1: a softmax classifier plus a pull of every feature towards its class's center, the
centers moved by their own rule rather than by the optimiser. §3.1
(``notebooks/03_metric_learning.ipynb``) trains an Omniglot embedding with it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import checks
from ..reduction import reduce_loss
from .losses import check_embeddings

__all__ = ["CenterLoss", "center_loss", "center_update"]


def center_loss(features: Tensor, labels: Tensor, centers: Tensor, reduction: str = "mean") -> Tensor:
    """``1/2 ||x_i - c_{y_i}||^2`` per example (Wen et al., eq. 2).

    Wen et al. *sum* over the mini-batch (``reduction="sum"``); the mean makes the weight
    ``lambda`` independent of the batch size.

    Shapes:
        features ``(batch, feat_dim)``, labels ``(batch,)`` in ``0 .. num_classes - 1``,
        centers ``(num_classes, feat_dim)`` -> scalar, or ``(batch,)`` for ``reduction="none"``.
    """
    check_embeddings(features, labels, name="features")
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
    checks.probability("alpha", alpha)
    features = features.detach().to(centers.dtype)
    counts = torch.bincount(labels, minlength=len(centers)).to(centers.dtype)[:, None]  # (num_classes, 1)
    sums = torch.zeros_like(centers).index_add_(0, labels, features)
    delta = (counts * centers - sums) / (1 + counts)
    return centers - alpha * delta


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
        checks.positive_ints(num_classes=num_classes, feat_dim=feat_dim)
        checks.probability("alpha", alpha)
        reduce_loss(torch.zeros(1), reduction)  # validates reduction
        self.alpha, self.reduction = alpha, reduction
        self.register_buffer("centers", torch.zeros(num_classes, feat_dim))

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        return center_loss(features, labels, self.centers, self.reduction)

    @torch.no_grad()
    def update_centers(self, features: Tensor, labels: Tensor) -> None:
        """Apply :func:`center_update` to the buffer in place."""
        self.centers.copy_(center_update(features, labels, self.centers, self.alpha))
