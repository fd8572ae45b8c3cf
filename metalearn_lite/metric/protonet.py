"""Prototypical networks (Snell, Swersky & Zemel, 2017).

Each class is represented by its *prototype*, the mean embedding of its support examples; a query
gets the softmax over negative squared Euclidean distances to the prototypes (Snell et al., eq. 1
and 2). With squared Euclidean distance the classifier is linear in the query embedding, and it
is the Bayes classifier of a mixture of equal-variance Gaussians, one per class (their §2.3).
§3.1 (``notebooks/03_metric_learning.ipynb``) derives it, §4.2 (``notebooks/08_few_shot.ipynb``) benchmarks it.
"""

from __future__ import annotations

from torch import Tensor

from .base import EpisodicLearner, check_support, class_mask

__all__ = ["PrototypicalNetwork", "prototypes", "prototypical_logits"]


def prototypes(z_support: Tensor, y_support: Tensor, n_way: int) -> Tensor:
    """Mean support embedding of each class.

    Shapes:
        z_support ``(n_support, dim)``, y_support ``(n_support,)`` in ``0 .. n_way - 1``
        -> ``(n_way, dim)``.
    """
    mask = class_mask(y_support, n_way).to(z_support.dtype)  # (n_way, n_support)
    return (mask @ z_support) / mask.sum(dim=1, keepdim=True)


def prototypical_logits(z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
    """``-||f(x) - c_k||^2``: negative squared Euclidean distance of each query to each prototype.

    Shapes:
        z_support ``(n_support, dim)``, y_support ``(n_support,)``, z_query ``(n_query, dim)``
        -> ``(n_query, n_way)``.
    """
    n_way = check_support(z_support, y_support, z_query)
    centres = prototypes(z_support, y_support, n_way)
    return -(z_query[:, None, :] - centres[None, :, :]).pow(2).sum(dim=-1)  # (n_query, n_way)


class PrototypicalNetwork(EpisodicLearner):
    """An encoder plus :func:`prototypical_logits`; trained with :meth:`loss` on episodes.

    Args:
        encoder: ``(n, *input_shape) -> (n, dim)``, e.g. :class:`~metalearn_lite.fewshot.ConvEncoder`.

    Shapes:
        ``forward(x_support (n_support, ...), y_support (n_support,), x_query (n_query, ...))``
        -> logits ``(n_query, n_way)``.
    """

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        return prototypical_logits(z_support, y_support, z_query)
