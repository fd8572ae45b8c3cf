"""What every metric-based few-shot learner shares: embed, compare, classify the queries.

A metric learner never changes its weights on a new task. It embeds the support and query
examples with one network and labels each query by comparing embeddings; the comparison rule is
what distinguishes Siamese (Koch et al., 2015), Matching (Vinyals et al., 2016) and Prototypical
(Snell et al., 2017) networks. Each learner therefore only implements
:meth:`EpisodicLearner.logits_from_embeddings`; training and prediction follow from it. Chapter
3.1 explains the idea, §4.2 (``notebooks/08_few_shot.ipynb``) compares the learners.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from ..tasks import Task

__all__ = ["EpisodicLearner", "check_support", "class_mask"]


def check_support(z_support: Tensor, y_support: Tensor, z_query: Tensor) -> int:
    """Validate an embedded episode and return ``n_way`` (labels must be ``0 .. n_way - 1``).

    Raises:
        ValueError: non-matrix embeddings, mismatched lengths or widths, non-integer labels, or
            a class in ``0 .. max(y_support)`` without support examples.
    """
    if z_support.dim() != 2 or z_query.dim() != 2 or z_support.shape[1] != z_query.shape[1]:
        raise ValueError(
            f"z_support and z_query must be (n, dim) with the same dim, got {tuple(z_support.shape)} "
            f"and {tuple(z_query.shape)}"
        )
    if y_support.dim() != 1 or y_support.dtype.is_floating_point or y_support.dtype == torch.bool:
        raise ValueError(f"y_support must be a 1-D integer tensor, got {y_support.dtype} {tuple(y_support.shape)}")
    if len(y_support) != len(z_support) or len(y_support) == 0:
        raise ValueError(f"y_support has {len(y_support)} labels for {len(z_support)} support embeddings")
    if int(y_support.min()) < 0:
        raise ValueError(f"y_support labels must be >= 0, got {int(y_support.min())}")
    counts = torch.bincount(y_support)
    if (counts == 0).any():
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"y_support must label classes 0 .. n_way - 1, but classes {missing} have no example")
    return len(counts)


def class_mask(y_support: Tensor, n_way: int) -> Tensor:
    """``(n_way, n_support)`` boolean matrix: entry ``[c, i]`` is true when support ``i`` is of class ``c``."""
    return F.one_hot(y_support, n_way).T.bool()


class EpisodicLearner(nn.Module):
    """Base class: an ``encoder`` plus a rule that turns embeddings into class scores.

    Subclasses implement :meth:`logits_from_embeddings`. Everything else (a forward pass on raw
    inputs, the episode loss, predictions) is defined here once.

    Args:
        encoder: maps ``(n, *input_shape)`` inputs to ``(n, dim)`` embeddings.
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def embed(self, x: Tensor) -> Tensor:
        """``(n, *input_shape)`` -> ``(n, dim)`` embeddings."""
        return self.encoder(x)

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        """Class scores ``(n_query, n_way)`` of the queries (a softmax over them gives probabilities)."""
        raise NotImplementedError

    def forward(self, x_support: Tensor, y_support: Tensor, x_query: Tensor) -> Tensor:
        """Scores ``(n_query, n_way)``. Support and query go through the encoder in one batch."""
        for name, x in (("x_support", x_support), ("x_query", x_query)):
            checks.tensor(name, x)
            checks.matches_model(name, x, self.encoder)
        if x_support.shape[1:] != x_query.shape[1:]:
            raise ValueError(f"x_query examples must have the shape of x_support examples "
                             f"{tuple(x_support.shape[1:])}, got {tuple(x_query.shape[1:])}")
        z = self.embed(torch.cat([x_support, x_query]))
        return self.logits_from_embeddings(z[: len(x_support)], y_support, z[len(x_support) :])

    def loss(self, task: Task) -> Tensor:
        """Cross-entropy of the query labels under :meth:`forward` (the episodic training loss)."""
        return F.cross_entropy(self(task.x_support, task.y_support, task.x_query), task.y_query)

    def predict(self, task: Task) -> Tensor:
        """``(n_query,)`` predicted labels; suits :func:`~metalearn_lite.evaluate_episodes`."""
        return self(task.x_support, task.y_support, task.x_query).argmax(dim=1)

    def predict_embedded(self, task: Task) -> Tensor:
        """Like :meth:`predict` for a task whose ``x_*`` already are embeddings.

        Embedding a whole test set once and sampling episodes of embeddings is exact for every
        learner here, because none adapts its encoder to the task.
        """
        return self.logits_from_embeddings(task.x_support, task.y_support, task.x_query).argmax(dim=1)
