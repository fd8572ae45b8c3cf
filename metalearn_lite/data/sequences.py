"""Few-shot episodes as sequences, the format of Santoro et al. (2016).

A sequence episode draws ``n_way`` classes with fresh random labels and shows ``n_instances``
examples of each, one per time step, in random order. At step ``t`` the network sees the example
``x_t`` together with the *previous* step's label ``y_{t-1}`` (one-hot; zeros at ``t = 0``) and must
predict ``y_t``. The first time a class appears its label can only be guessed; from the second time
on, a learner that bound the image to the label it was told one step later can answer.
:func:`~metalearn_lite.memory.evaluation.per_instance_accuracy` measures exactly that: accuracy on
the 1st, 2nd, ... presentation of a class. §3.2 (``notebooks/04_memory_augmented.ipynb``) trains
MANN and an LSTM on these episodes.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import checks
from .episodes import EpisodeSampler

__all__ = [
    "SequenceBatch",
    "SequenceEpisodeSampler",
    "presentation_index",
    "with_previous_labels",
]


class SequenceBatch(NamedTuple):
    """A batch of sequence episodes.

    Shapes:
        inputs ``(B, T, D + n_way)``: flattened examples, then the previous label one-hot;
        labels ``(B, T)`` in ``0 .. n_way - 1``;
        instance ``(B, T)``: 1 for a class's first presentation, 2 for its second, ...
    """

    inputs: Tensor
    labels: Tensor
    instance: Tensor


def with_previous_labels(x: Tensor, labels: Tensor, n_way: int) -> Tensor:
    """Concatenate each step's input with the previous step's one-hot label (zeros at ``t = 0``).

    Shapes:
        x ``(B, T, D)``, labels ``(B, T)`` -> ``(B, T, D + n_way)``.

    Raises:
        ValueError: shapes that disagree, or labels outside ``0 .. n_way - 1``.
    """
    if x.dim() != 3 or labels.shape != x.shape[:2]:
        raise ValueError(f"x must be (B, T, D) and labels (B, T), got {tuple(x.shape)} and {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_way):
        raise ValueError(f"labels must be in 0 .. n_way - 1 = {n_way - 1}, got values "
                         f"{int(labels.min())} .. {int(labels.max())}")
    previous = F.one_hot(labels[:, :-1], n_way).to(x.dtype)
    previous = torch.cat([previous.new_zeros(x.shape[0], 1, n_way), previous], dim=1)
    return torch.cat([x, previous], dim=2)


def presentation_index(labels: Tensor) -> Tensor:
    """How many times each step's class has been shown so far, this step included (1-based).

    Shapes:
        labels ``(B, T)`` integers -> ``(B, T)`` int64.
    """
    if labels.dim() != 2:
        raise ValueError(f"labels must have shape (B, T), got {tuple(labels.shape)}")
    same = labels.unsqueeze(2) == labels.unsqueeze(1)  # (B, T, T): same[b, t, s] = labels equal
    earlier_or_now = torch.ones_like(same[0]).tril()  # s <= t
    return (same & earlier_or_now).sum(dim=2)


class SequenceEpisodeSampler:
    """Draws batches of sequence episodes from a labelled dataset.

    Args:
        x: ``(N, *input_shape)`` examples (flattened per step in the output).
        y: ``(N,)`` class labels.
        n_way: classes per episode (paper: 5).
        n_instances: examples of each class per episode (paper: 10), so ``T = n_way * n_instances``.
        generator: the source of randomness.

    Labels are shuffled anew in every episode (by :class:`~metalearn_lite.data.EpisodeSampler`),
    so no image-to-label mapping can be memorised in the weights.
    """

    def __init__(
        self, x: Tensor, y: Tensor, n_way: int = 5, n_instances: int = 10, generator: torch.Generator | None = None
    ) -> None:
        checks.positive_ints(n_way=n_way, n_instances=n_instances)
        self.episodes = EpisodeSampler(x, y, n_way, k_shot=n_instances, n_query=0, generator=generator)
        self.n_way, self.n_instances, self.generator = n_way, n_instances, generator

    @property
    def input_size(self) -> int:
        """Features per step: the flattened example plus the one-hot previous label."""
        return int(self.episodes.x[0].numel()) + self.n_way

    def sample(self, batch_size: int) -> SequenceBatch:
        """``batch_size`` independent episodes, each in its own random order."""
        checks.positive_int("batch_size", batch_size)
        xs, ys = [], []
        for _ in range(batch_size):
            task = self.episodes.sample()
            order = torch.randperm(len(task.y_support), generator=self.generator)
            xs.append(task.x_support[order].flatten(1))
            ys.append(task.y_support[order])
        x, labels = torch.stack(xs), torch.stack(ys)
        return SequenceBatch(with_previous_labels(x, labels, self.n_way), labels, presentation_index(labels))
