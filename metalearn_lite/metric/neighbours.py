"""Nearest-neighbour classification in a fixed space: the baseline every metric learner must beat.

With the identity (flattening) encoder this is the pixel nearest neighbour of §1
(``notebooks/01_introduction.ipynb``); a query gets the class of its closest support example in
Euclidean distance. §4.2 (``notebooks/08_few_shot.ipynb``) uses it as the first row of its
comparison table.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import EpisodicLearner, check_support, class_mask

__all__ = ["NearestNeighbour", "nearest_neighbour_logits"]


def nearest_neighbour_logits(z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
    """Minus the distance of each query to the closest support example of each class.

    Shapes:
        z_support ``(n_support, dim)``, y_support ``(n_support,)``, z_query ``(n_query, dim)``
        -> ``(n_query, n_way)``.
    """
    n_way = check_support(z_support, y_support, z_query)
    distances = torch.linalg.vector_norm(z_query[:, None, :] - z_support[None, :, :], dim=-1)  # (n_query, n_support)
    mask = class_mask(y_support, n_way)
    return -distances[:, None, :].masked_fill(~mask[None], float("inf")).amin(dim=-1)


class NearestNeighbour(EpisodicLearner):
    """1-nearest neighbour in the space of ``encoder`` (default: raw pixels, flattened).

    Has no trainable parameters of its own; use it with :func:`~metalearn_lite.evaluate_episodes`
    through :meth:`predict`.
    """

    def __init__(self, encoder: nn.Module | None = None) -> None:
        super().__init__(nn.Flatten() if encoder is None else encoder)

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        return nearest_neighbour_logits(z_support, y_support, z_query)
