"""Relation networks (Sung, Yang, Zhang, Xiang, Torr & Hospedales, 2018): learn the comparison itself.

Siamese, matching and prototypical networks fix how two embeddings are compared (a learned
weighting of L1 distances, cosine similarity, squared Euclidean distance). A relation network
learns it: each class's embedding (with several shots, the sum of its support embeddings in their
section 3.2; here their mean, so that one model serves 1-shot and 5-shot episodes alike) is
concatenated with a query's embedding and a small *relation module* maps the pair to a score in
``[0, 1]``, trained by mean squared error against 1 for the query's class and 0 for the others
(their eq. 3 and 4).

Their relation module is two convolutional blocks and two fully connected layers on the
concatenated *feature maps*; here it is a two-layer MLP on the concatenated *flattened* embeddings
(the same ``ConvEncoder`` as the other learners of §4.2, whose 28 × 28 Omniglot maps are only 2 × 2
at that point). §3.1 (``notebooks/03_metric_learning.ipynb``) introduces it; §4.2
(``notebooks/08_few_shot.ipynb``) compares its shipped checkpoint with the other learners.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from ..tasks import Task
from .base import EpisodicLearner, check_support, class_mask

__all__ = ["RelationNetwork"]


class RelationNetwork(EpisodicLearner):
    """An encoder plus a learned relation module scoring (class, query) pairs.

    Args:
        encoder: ``(n, *input_shape) -> (n, dim)``.
        embedding_dim: ``dim``, the encoder's output size.
        hidden: units of the relation module's hidden layer (Sung et al.'s last hidden layer has 8;
            ours reads flattened embeddings and has 64 by default).

    Shapes:
        ``forward(x_support (n_support, ...), y_support (n_support,), x_query (n_query, ...))``
        -> relation scores ``(n_query, n_way)`` in ``[0, 1]``.
    """

    def __init__(self, encoder: nn.Module, embedding_dim: int, hidden: int = 64) -> None:
        super().__init__(encoder)
        checks.positive_ints(embedding_dim=embedding_dim, hidden=hidden)
        self.relation = nn.Sequential(nn.Linear(2 * embedding_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        n_way = check_support(z_support, y_support, z_query)
        mask = class_mask(y_support, n_way).to(z_support.dtype)
        classes = (mask @ z_support) / mask.sum(dim=1, keepdim=True)  # (n_way, dim): the mean over shots
        pairs = torch.cat([classes[None].expand(len(z_query), -1, -1),
                           z_query[:, None].expand(-1, n_way, -1)], dim=-1)  # (n_query, n_way, 2 dim)
        return torch.sigmoid(self.relation(pairs).squeeze(-1))  # (n_query, n_way)

    def loss(self, task: Task) -> Tensor:
        """Mean squared error between the relation scores and the one-hot query labels (Sung et al., eq. 4)."""
        scores = self(task.x_support, task.y_support, task.x_query)
        checks.labels("y_query", task.y_query, scores.shape[1], len(task.x_query))
        return F.mse_loss(scores, F.one_hot(task.y_query, scores.shape[1]).to(scores.dtype))
