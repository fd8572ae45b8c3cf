"""How the memory chapter measures its models: wrong bits on the copy task, accuracy per presentation.

* :func:`bit_errors` and :func:`copy_errors`: the copy task's score, wrong bits per sequence
  (Graves et al., 2014, Figure 4), also at lengths never trained on.
* :func:`per_instance_accuracy` and :func:`evaluate_per_instance`: accuracy on the 1st, 2nd, ...
  presentation of a class in a sequence episode (Santoro et al., 2016, Table 1).
* :func:`story_accuracy`: the fraction of bAbI-style questions answered exactly.

Taught in §3.2 (``notebooks/04_memory_augmented.ipynb``).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .. import checks
from ..data.copy_task import copy_batch
from ..data.sequences import SequenceEpisodeSampler
from ..data.stories import EncodedStories

__all__ = ["bit_errors", "copy_errors", "evaluate_per_instance", "per_instance_accuracy", "story_accuracy"]


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def bit_errors(logits: Tensor, targets: Tensor) -> Tensor:
    """Wrong bits per sequence when the outputs of the recall phase are thresholded at 0.5.

    Args:
        logits: ``(B, T, n_bits)`` a model's outputs for the whole sequence; only the last
            ``length = targets.shape[1]`` steps are scored.
        targets: ``(B, length, n_bits)``.

    Returns:
        ``(B,)`` the number of wrong bits of each sequence (the paper's "cost per sequence" axis
        counts bits the same way).
    """
    checks.tensor("logits", logits, dim=3)
    checks.tensor("targets", targets, dim=3)
    if logits.shape[0] != targets.shape[0] or logits.shape[-1] != targets.shape[-1]:
        raise ValueError(f"logits (B, T, n_bits) and targets (B, length, n_bits) expected with the same B and "
                         f"n_bits, got {tuple(logits.shape)} and {tuple(targets.shape)}")
    length = targets.shape[1]
    if logits.shape[1] < length:
        raise ValueError(f"logits has {logits.shape[1]} steps, fewer than the {length} targets")
    predicted = (logits[:, -length:] > 0).float()
    return (predicted != targets).sum(dim=(1, 2)).float()


def per_instance_accuracy(logits: Tensor, labels: Tensor, instance: Tensor, max_instance: int) -> Tensor:
    """Accuracy on the k-th presentation of a class, for ``k = 1 .. max_instance``.

    Shapes:
        logits ``(B, T, n_way)``, labels and instance ``(B, T)`` -> ``(max_instance,)``;
        entry ``k - 1`` is the accuracy over all steps with ``instance == k`` (NaN if none).
    """
    if logits.shape[:2] != labels.shape or instance.shape != labels.shape:
        raise ValueError(f"logits (B, T, n_way), labels (B, T) and instance (B, T) expected, got "
                         f"{tuple(logits.shape)}, {tuple(labels.shape)}, {tuple(instance.shape)}")
    correct = (logits.argmax(dim=-1) == labels).float()
    return torch.stack([correct[instance == k].mean() for k in range(1, max_instance + 1)])


@torch.no_grad()
def copy_errors(
    model: nn.Module,
    lengths: Iterable[int],
    *,
    n_bits: int = 8,
    num_sequences: int = 100,
    generator: torch.Generator | None = None,
) -> dict[int, float]:
    """Mean wrong bits per sequence for each length (lengths beyond training test generalisation)."""
    checks.module("model", model)
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        checks.positive_int(f"lengths[{i}]", length)
    checks.positive_ints(n_bits=n_bits, num_sequences=num_sequences)
    checks.generator("generator", generator)
    device = _device(model)
    errors = {}
    for length in lengths:
        inputs, targets = (t.to(device) for t in copy_batch(num_sequences, length, n_bits, generator))
        errors[length] = bit_errors(model(inputs), targets).mean().item()
    return errors


@torch.no_grad()
def evaluate_per_instance(
    model: nn.Module, sampler: SequenceEpisodeSampler, num_episodes: int = 1000, batch_size: int = 250
) -> Tensor:
    """Accuracy on the 1st ... ``n_instances``-th presentation over ``num_episodes`` episodes.

    Shapes:
        -> ``(sampler.n_instances,)``.
    """
    checks.module("model", model)
    if not isinstance(sampler, SequenceEpisodeSampler):
        raise TypeError(f"sampler must be a SequenceEpisodeSampler, got {type(sampler).__name__}")
    checks.positive_ints(num_episodes=num_episodes, batch_size=batch_size)
    device = _device(model)
    correct = torch.zeros(sampler.n_instances, dtype=torch.float64)
    done = 0
    while done < num_episodes:
        inputs, labels, instance = (t.to(device) for t in sampler.sample(min(batch_size, num_episodes - done)))
        accuracy = per_instance_accuracy(model(inputs), labels, instance, sampler.n_instances)
        correct += accuracy.double().cpu() * inputs.shape[0]  # every class appears once per instance
        done += inputs.shape[0]
    return correct / done


@torch.no_grad()
def story_accuracy(model: nn.Module, data: EncodedStories) -> float:
    """Fraction of questions answered with exactly the right word."""
    device = _device(model)
    stories, queries, answers, lengths = (t.to(device) for t in data)
    return (model(stories, queries, lengths).argmax(dim=1) == answers).float().mean().item()
