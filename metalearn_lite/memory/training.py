"""Training and evaluation loops of chapter 3.2: copy task, sequence episodes, stories.

One loop per kind of data, shared by every model that fits it: the NTM and the LSTM both go
through :func:`train_copy`, MANN and the LSTM through :func:`train_episodes`, so a comparison in the
chapter differs only in the model. Each loop returns a history (lists of floats per step) for
the chapter to plot.

The papers train with RMSProp at a learning rate of 1e-4 (NTM, MANN) or SGD at 0.01 (MemN2N) for
days of GPU time; these loops use Adam with larger steps and gradient-norm clipping so that the
chapter's small runs finish in about a minute on a CPU. ``train_copy`` and ``train_episodes``
build their optimiser unless one is passed (``optimizer=``, to train in chunks without resetting
Adam's moments).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..data.copy_task import bit_errors, copy_batch
from ..data.sequences import SequenceEpisodeSampler, per_instance_accuracy
from ..data.stories import EncodedStories
from .memn2n import MemN2N

__all__ = [
    "copy_errors",
    "evaluate_episodes_per_instance",
    "story_accuracy",
    "train_copy",
    "train_episodes",
    "train_memn2n",
]


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_steps(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _update(optimizer: torch.optim.Optimizer, model: nn.Module, loss: Tensor, max_grad_norm: float) -> None:
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()


def train_copy(
    model: nn.Module,
    num_steps: int,
    *,
    min_length: int = 1,
    max_length: int = 20,
    n_bits: int = 8,
    batch_size: int = 16,
    lr: float = 3e-3,
    max_grad_norm: float = 10.0,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train a sequence model on the copy task; each step draws one length for the whole batch.

    The loss is the binary cross-entropy of the recall phase only (the paper's lengths: 1-20).

    Returns:
        ``{"loss": [...], "bit_errors": [...]}``, one value per step (bit errors per sequence).
    """
    _check_steps("num_steps", num_steps)
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
    device = _device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    history: dict[str, list[float]] = {"loss": [], "bit_errors": []}
    for _ in tqdm(range(num_steps), desc="copy task", disable=not progress):
        length = int(torch.randint(min_length, max_length + 1, (1,), generator=generator))
        inputs, targets = (t.to(device) for t in copy_batch(batch_size, length, n_bits, generator))
        logits = model(inputs)
        loss = F.binary_cross_entropy_with_logits(logits[:, -length:], targets)
        _update(optimizer, model, loss, max_grad_norm)
        history["loss"].append(loss.item())
        history["bit_errors"].append(bit_errors(logits.detach(), targets).mean().item())
    return history


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
    device = _device(model)
    errors = {}
    for length in lengths:
        inputs, targets = (t.to(device) for t in copy_batch(num_sequences, length, n_bits, generator))
        errors[length] = bit_errors(model(inputs), targets).mean().item()
    return errors


def train_episodes(
    model: nn.Module,
    sampler: SequenceEpisodeSampler,
    num_steps: int,
    *,
    batch_size: int = 16,
    lr: float = 3e-3,
    max_grad_norm: float = 10.0,
    optimizer: torch.optim.Optimizer | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train on sequence episodes: cross-entropy on every step's label.

    Returns:
        ``{"loss": [...], "first": [...], "second": [...]}``: per step, the loss and the training
        accuracy on the 1st and 2nd presentations of a class.
    """
    _check_steps("num_steps", num_steps)
    _check_steps("batch_size", batch_size)
    device = _device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    history: dict[str, list[float]] = {"loss": [], "first": [], "second": []}
    for _ in tqdm(range(num_steps), desc="episodes", disable=not progress):
        inputs, labels, instance = (t.to(device) for t in sampler.sample(batch_size))
        logits = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        _update(optimizer, model, loss, max_grad_norm)
        first, second = per_instance_accuracy(logits.detach(), labels, instance, 2).tolist()
        history["loss"].append(loss.item())
        history["first"].append(first)
        history["second"].append(second)
    return history


@torch.no_grad()
def evaluate_episodes_per_instance(
    model: nn.Module, sampler: SequenceEpisodeSampler, num_episodes: int = 1000, batch_size: int = 250
) -> Tensor:
    """Accuracy on the 1st ... ``n_instances``-th presentation over ``num_episodes`` episodes.

    Shapes:
        -> ``(sampler.n_instances,)``.
    """
    _check_steps("num_episodes", num_episodes)
    device = _device(model)
    correct = torch.zeros(sampler.n_instances, dtype=torch.float64)
    done = 0
    while done < num_episodes:
        inputs, labels, instance = (t.to(device) for t in sampler.sample(min(batch_size, num_episodes - done)))
        accuracy = per_instance_accuracy(model(inputs), labels, instance, sampler.n_instances)
        correct += accuracy.double().cpu() * inputs.shape[0]  # every class appears once per instance
        done += inputs.shape[0]
    return correct / done


def train_memn2n(
    model: MemN2N,
    data: EncodedStories,
    epochs: int,
    *,
    batch_size: int = 32,
    lr: float = 0.01,
    lr_decay: float = 1.0,
    linear_start_epochs: int = 0,
    max_grad_norm: float = 40.0,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train an end-to-end memory network on encoded stories.

    Args:
        lr_decay: the learning rate is multiplied by this after every epoch (the paper halves it
            every 25 epochs).
        linear_start_epochs: epochs trained without the softmax of the hops (the paper's linear
            start, which avoids poor local minima on some tasks).

    Returns:
        ``{"loss": [...]}`` per step.
    """
    _check_steps("epochs", epochs)
    device = _device(model)
    stories, queries, answers, lengths = (t.to(device) for t in data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, lr_decay)
    history: dict[str, list[float]] = {"loss": []}
    for epoch in tqdm(range(epochs), desc="MemN2N", disable=not progress):
        order = torch.randperm(len(answers), generator=generator).to(device)
        for batch in order.split(batch_size):
            logits = model(stories[batch], queries[batch], lengths[batch], linear=epoch < linear_start_epochs)
            loss = F.cross_entropy(logits, answers[batch])
            _update(optimizer, model, loss, max_grad_norm)
            history["loss"].append(loss.item())
        scheduler.step()
    return history


@torch.no_grad()
def story_accuracy(model: MemN2N, data: EncodedStories) -> float:
    """Fraction of questions answered with exactly the right word."""
    device = _device(model)
    stories, queries, answers, lengths = (t.to(device) for t in data)
    return (model(stories, queries, lengths).argmax(dim=1) == answers).float().mean().item()
