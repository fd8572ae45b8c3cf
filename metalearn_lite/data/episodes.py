"""N-way K-shot episodes drawn from a labelled dataset (Vinyals et al., 2016).

An episode picks ``n_way`` classes, then ``k_shot`` support and ``n_query`` query examples of each,
and relabels the chosen classes ``0 .. n_way - 1`` in a random order, so a learner cannot memorise
which class is which across episodes. §1 (``notebooks/01_introduction.ipynb``) draws the picture;
§3.1 (``notebooks/03_metric_learning.ipynb``), §3.2 (``notebooks/04_memory_augmented.ipynb``) and §4.2
(``notebooks/08_few_shot.ipynb``) train on them.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from .. import checks
from ..tasks import Task

__all__ = ["EpisodeSampler", "sample_episode"]


class EpisodeSampler:
    """An iterable of N-way K-shot :class:`~metalearn_lite.Task` s.

    Args:
        x: ``(N, *input_shape)`` examples.
        y: ``(N,)`` integer class labels (any values; classes need not be contiguous).
        n_way: classes per episode.
        k_shot: support examples per class.
        n_query: query examples per class (disjoint from the support examples).
        num_episodes: length of one pass; ``None`` iterates forever.
        generator: the source of randomness (seed it for reproducible episodes).

    Shapes of each episode:
        x_support ``(n_way * k_shot, *input_shape)``, y_support ``(n_way * k_shot,)``,
        x_query ``(n_way * n_query, *input_shape)``, y_query ``(n_way * n_query,)``; examples are
        grouped by class, labels are ``0 .. n_way - 1``.

    Raises:
        ValueError: bad shapes, ``n_way`` larger than the number of classes, or
            ``k_shot + n_query`` larger than the examples of some class.
    """

    def __init__(
        self,
        x: Tensor,
        y: Tensor,
        n_way: int,
        k_shot: int,
        n_query: int,
        num_episodes: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        checks.tensor("x", x)
        checks.labels("y", y)
        if x.dim() == 0 or x.shape[0] != y.shape[0]:
            raise ValueError(f"x and y must have as many rows: x has {x.shape[0]}, y has {y.shape[0]}")
        checks.positive_ints(n_way=n_way, k_shot=k_shot)
        checks.non_negative_int("n_query", n_query)
        if num_episodes is not None:
            checks.positive_int("num_episodes", num_episodes)
        checks.generator("generator", generator)
        classes, counts = torch.unique(y, return_counts=True)
        if n_way > len(classes):
            raise ValueError(f"n_way={n_way} exceeds the {len(classes)} classes present in y")
        need = k_shot + n_query
        if need > int(counts.min()):
            small = classes[counts.argmin()].item()
            raise ValueError(
                f"k_shot + n_query = {need} exceeds the {int(counts.min())} examples of class {small}"
            )
        self.x, self.n_way, self.k_shot, self.n_query = x, n_way, k_shot, n_query
        self.num_episodes, self.generator = num_episodes, generator
        order = torch.argsort(y, stable=True)
        self._by_class = list(torch.split(order, counts.tolist()))  # one index tensor per class

    def __len__(self) -> int:
        if self.num_episodes is None:
            raise TypeError("an EpisodeSampler with num_episodes=None is infinite")
        return self.num_episodes

    def __iter__(self) -> Iterator[Task]:
        count = 0
        while self.num_episodes is None or count < self.num_episodes:
            yield self.sample()
            count += 1

    def sample(self) -> Task:
        """Draw one episode."""
        g, need = self.generator, self.k_shot + self.n_query
        chosen = torch.randperm(len(self._by_class), generator=g)[: self.n_way]
        picks = []
        for c in chosen.tolist():
            members = self._by_class[c]
            picks.append(members[torch.randperm(len(members), generator=g)[:need]])
        idx = torch.stack(picks)  # (n_way, k_shot + n_query)
        support, query = idx[:, : self.k_shot].reshape(-1), idx[:, self.k_shot :].reshape(-1)
        labels = torch.arange(self.n_way, device=self.x.device)
        return Task(
            self.x[support.to(self.x.device)],
            labels.repeat_interleave(self.k_shot),
            self.x[query.to(self.x.device)],
            labels.repeat_interleave(self.n_query),
        )


def sample_episode(
    x: Tensor,
    y: Tensor,
    n_way: int,
    k_shot: int,
    n_query: int,
    generator: torch.Generator | None = None,
) -> Task:
    """Draw one N-way K-shot episode; see :class:`EpisodeSampler` for shapes and errors.

    For many episodes from the same data, build an :class:`EpisodeSampler` once: it indexes the
    classes a single time.
    """
    return EpisodeSampler(x, y, n_way, k_shot, n_query, generator=generator).sample()
