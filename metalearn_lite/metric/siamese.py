"""Siamese networks for one-shot recognition (Koch, Zemel & Salakhutdinov, 2015).

Two inputs pass through the same encoder; a learned weighting of the component-wise L1 distance of
their embeddings, squashed by a sigmoid, is the probability that both show the same class (Koch et
al., eq. 1: ``p = sigmoid(sum_j alpha_j |h1_j - h2_j| + b)``). Trained on *verification* (same /
different pairs), it becomes a one-shot classifier by labelling a query with the class of the
best-matching support example. §3.1 (``notebooks/03_metric_learning.ipynb``) explains it, §4.2
(``notebooks/08_few_shot.ipynb``) benchmarks it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from ..tasks import Task
from .base import EpisodicLearner, check_support, class_mask

__all__ = ["SiameseNetwork", "verification_loss"]


def verification_loss(pair_logits: Tensor, same: Tensor) -> Tensor:
    """Binary cross-entropy of ``same`` (1 = same class) in which both kinds of pair weigh half.

    An N-way episode holds ``N - 1`` times more different pairs than equal ones; without the
    balancing, a verifier could score well by answering "different" to everything.

    Shapes:
        pair_logits ``(n_pairs,)`` or any shape, same: same shape with values in {0, 1}.
    """
    if pair_logits.shape != same.shape:
        raise ValueError(f"pair_logits {tuple(pair_logits.shape)} and same {tuple(same.shape)} must match")
    same = same.to(pair_logits.dtype)
    if not ((same == 0) | (same == 1)).all():
        raise ValueError("same must contain only 0 and 1")
    losses = F.binary_cross_entropy_with_logits(pair_logits, same, reduction="none")
    n_same, n_diff = same.sum(), (1 - same).sum()
    if n_same == 0 or n_diff == 0:
        return losses.mean()
    return 0.5 * (losses * same).sum() / n_same + 0.5 * (losses * (1 - same)).sum() / n_diff


class SiameseNetwork(EpisodicLearner):
    """Pair verification with a shared encoder; few-shot prediction by the best-matching support.

    Args:
        encoder: ``(n, *input_shape) -> (n, embedding_dim)``.
        embedding_dim: the encoder's output size (the length of ``alpha`` in Koch et al., eq. 1).

    Shapes:
        :meth:`pair_logits`: ``(n, dim), (n, dim) -> (n,)``;
        ``forward(x_support, y_support, x_query)`` -> ``(n_query, n_way)``, the best pair logit of
        each class.
    """

    def __init__(self, encoder: nn.Module, embedding_dim: int) -> None:
        super().__init__(encoder)
        checks.positive_int("embedding_dim", embedding_dim)
        self.head = nn.Linear(embedding_dim, 1)

    def pair_logits(self, z1: Tensor, z2: Tensor) -> Tensor:
        """Logit of "same class" for embedding pairs (broadcasting over leading dimensions)."""
        return self.head((z1 - z2).abs()).squeeze(-1)

    def verify(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Logits ``(n,)`` that ``x1[i]`` and ``x2[i]`` show the same class.

        Raises:
            ValueError: ``x1`` and ``x2`` hold different numbers or shapes of examples.
        """
        checks.tensor("x1", x1)
        checks.tensor("x2", x2)
        if x1.shape != x2.shape:
            raise ValueError(f"x1 and x2 must be pairs of the same shape, got {tuple(x1.shape)} and {tuple(x2.shape)}")
        z = self.embed(torch.cat([x1, x2]))
        return self.pair_logits(z[: len(x1)], z[len(x1) :])

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        n_way = check_support(z_support, y_support, z_query)
        scores = self.pair_logits(z_query[:, None, :], z_support[None, :, :])  # (n_query, n_support)
        mask = class_mask(y_support, n_way)  # (n_way, n_support)
        return scores[:, None, :].masked_fill(~mask[None], float("-inf")).amax(dim=-1)

    def loss(self, task: Task) -> Tensor:
        """:func:`verification_loss` over every (query, support) pair of the episode."""
        z = self.embed(torch.cat([task.x_support, task.x_query]))
        z_support, z_query = z[: len(task.x_support)], z[len(task.x_support) :]
        check_support(z_support, task.y_support, z_query)
        scores = self.pair_logits(z_query[:, None, :], z_support[None, :, :])  # (n_query, n_support)
        same = task.y_query[:, None] == task.y_support[None, :]
        return verification_loss(scores, same)
