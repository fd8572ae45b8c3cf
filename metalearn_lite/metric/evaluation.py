"""Fast, fair evaluation of metric learners: embed the test set once, then sample episodes.

A metric learner does not adapt its encoder to a task, so the embedding of an image is the same in
every episode. :func:`evaluate_embedded` therefore embeds the whole test set once and runs the
episodes on embeddings, hundreds of times faster than embedding each episode. The episodes depend
only on the labels and the seed, so a learner that must see images (MAML, say) evaluated with
``EpisodeSampler(images, labels, ..., generator=torch.Generator().manual_seed(seed))`` is judged on
exactly the same episodes. §4.2 (``notebooks/08_few_shot.ipynb``) and ``benchmarks/omniglot_fewshot.py`` use both.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..data.episodes import EpisodeSampler
from ..evaluation import Accuracy, evaluate_episodes
from .base import EpisodicLearner

__all__ = ["embed_all", "evaluate_embedded"]


@torch.no_grad()
def embed_all(encoder: nn.Module, images: Tensor, batch_size: int = 1024) -> Tensor:
    """Embeddings of ``images`` in evaluation mode, computed in batches on the encoder's device.

    Args:
        encoder: any module; one without parameters (``nn.Flatten``) runs on the CPU.
        images: the inputs, on any device.
        batch_size: images per forward pass.

    Shapes:
        images ``(n, *input_shape)`` -> ``(n, dim)`` on the CPU.
    """
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters(), torch.empty(0)).device
    parts = [encoder(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    encoder.train(was_training)
    return torch.cat(parts)


def evaluate_embedded(learner: EpisodicLearner, images: Tensor, labels: Tensor, n_way: int, k_shot: int,
                      n_query: int = 5, num_episodes: int = 600, seed: int = 0) -> Accuracy:
    """Mean accuracy and 95 % interval of ``learner`` over seeded N-way K-shot episodes.

    Args:
        learner: a metric learner (its ``logits_from_embeddings`` is applied on CPU embeddings).
        images, labels: the test set, ``(n, *input_shape)`` and ``(n,)``.
        n_way, k_shot, n_query: the episode shape.
        num_episodes: how many episodes (Snell et al. report 1,000; the chapters use fewer).
        seed: seeds the episode sampler; equal seeds give equal episodes for any learner.
    """
    device = next(learner.parameters(), torch.empty(0)).device  # the CPU for a parameter-free learner
    embeddings = embed_all(learner.encoder, images).to(device)
    episodes = EpisodeSampler(embeddings, labels.to(device), n_way, k_shot, n_query,
                              generator=torch.Generator().manual_seed(seed))
    was_training = learner.training
    learner.eval()
    result = evaluate_episodes(learner.predict_embedded, episodes, num_episodes)
    learner.train(was_training)
    return result
