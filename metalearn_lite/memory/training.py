"""The training loops of §3.2 (``notebooks/04_memory_augmented.ipynb``): copy task, sequence episodes, stories.

One loop per kind of data, shared by every model that fits it: the NTM and the LSTM both go
through :func:`train_copy`, MANN and the LSTM through :func:`train_sequence_model`, so a comparison
in the chapter differs only in the model. Each loop returns a history (lists of floats per step) for
the chapter to plot.

The papers train with RMSProp at a learning rate of 1e-4 (NTM, MANN) or SGD at 0.01 (MemN2N) for
days of GPU time; these loops use Adam with larger steps and gradient-norm clipping so that the
chapter's small runs finish in about a minute on a CPU. ``train_copy`` and ``train_sequence_model``
build their optimiser unless one is passed (``optimizer=``, to train in chunks without resetting
Adam's moments). Every step goes through :func:`~metalearn_lite.training.optimizer_step`: a
non-finite loss stops training before the weights change. The measures are in
:mod:`~metalearn_lite.memory.evaluation`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import checks
from ..data.copy_task import copy_batch
from ..data.sequences import SequenceEpisodeSampler
from ..data.stories import EncodedStories
from ..training import optimizer_step
from .evaluation import _device, bit_errors, per_instance_accuracy
from .memn2n import MemN2N

__all__ = ["train_copy", "train_memn2n", "train_sequence_model"]


def _check_common(model: nn.Module, num_steps: int, lr: float, max_grad_norm: float,
                  generator: torch.Generator | None, progress: bool, steps_name: str = "num_steps") -> None:
    checks.module("model", model)
    checks.positive_int(steps_name, num_steps)
    checks.positive_number("lr", lr)
    checks.positive_number("max_grad_norm", max_grad_norm)
    checks.generator("generator", generator)
    checks.boolean("progress", progress)


def train_copy(model: nn.Module, num_steps: int, *, min_length: int = 1, max_length: int = 20, n_bits: int = 8,
               batch_size: int = 16, lr: float = 3e-3, max_grad_norm: float = 10.0,
               optimizer: torch.optim.Optimizer | None = None, generator: torch.Generator | None = None,
               progress: bool = True) -> dict[str, list[float]]:
    """Train a sequence model on the copy task; each step draws one length for the whole batch.

    The loss is the binary cross-entropy of the recall phase only (the paper's lengths: 1-20).

    Returns:
        ``{"loss": [...], "bit_errors": [...]}``, one value per step (bit errors per sequence).
    """
    _check_common(model, num_steps, lr, max_grad_norm, generator, progress)
    checks.positive_ints(min_length=min_length, max_length=max_length, n_bits=n_bits, batch_size=batch_size)
    if min_length > max_length:
        raise ValueError(f"min_length must not exceed max_length, got {min_length} > {max_length}")
    device = _device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    history: dict[str, list[float]] = {"loss": [], "bit_errors": []}
    for step in tqdm(range(num_steps), desc="copy task", disable=not progress):
        length = int(torch.randint(min_length, max_length + 1, (1,), generator=generator))
        inputs, targets = (t.to(device) for t in copy_batch(batch_size, length, n_bits, generator))
        logits = model(inputs)
        loss = F.binary_cross_entropy_with_logits(logits[:, -length:], targets)
        loss = optimizer_step(optimizer, loss, f"the copy loss at step {step}", max_grad_norm)
        history["loss"].append(loss.item())
        history["bit_errors"].append(bit_errors(logits.detach(), targets).mean().item())
    return history


def train_sequence_model(model: nn.Module, sampler: SequenceEpisodeSampler, num_steps: int, *, batch_size: int = 16,
                         lr: float = 3e-3, max_grad_norm: float = 10.0,
                         optimizer: torch.optim.Optimizer | None = None,
                         progress: bool = True) -> dict[str, list[float]]:
    """Train a sequence model (MANN, an LSTM) on sequence episodes: cross-entropy on every step's label.

    Returns:
        ``{"loss": [...], "first": [...], "second": [...]}``: per step, the loss and the training
        accuracy on the 1st and 2nd presentations of a class.
    """
    _check_common(model, num_steps, lr, max_grad_norm, None, progress)
    checks.positive_int("batch_size", batch_size)
    if not isinstance(sampler, SequenceEpisodeSampler):
        raise TypeError(f"sampler must be a SequenceEpisodeSampler, got {type(sampler).__name__}")
    device = _device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    history: dict[str, list[float]] = {"loss": [], "first": [], "second": []}
    for step in tqdm(range(num_steps), desc="episodes", disable=not progress):
        inputs, labels, instance = (t.to(device) for t in sampler.sample(batch_size))
        logits = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        loss = optimizer_step(optimizer, loss, f"the episode loss at step {step}", max_grad_norm)
        first, second = per_instance_accuracy(logits.detach(), labels, instance, 2).tolist()
        history["loss"].append(loss.item())
        history["first"].append(first)
        history["second"].append(second)
    return history


def _insert_empty_slots(stories: Tensor, lengths: Tensor, rate: float, memory_size: int,
                        generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """The paper's random noise: an empty sentence before each sentence with probability ``rate``.

    A story gains no more empty slots than ``memory_size`` leaves room for.

    Shapes:
        stories ``(B, S, L)``, lengths ``(B,)`` -> stories ``(B, S', L)`` with ``S' >= S``, lengths ``(B,)``.
    """
    batch, slots, width = stories.shape
    real = torch.arange(slots, device=stories.device) < lengths.unsqueeze(1)
    insert = (torch.rand(batch, slots, generator=generator).to(stories.device) < rate) & real
    insert &= insert.long().cumsum(dim=1) <= (memory_size - lengths).unsqueeze(1)
    shift = insert.long().cumsum(dim=1)  # empty slots before (and at) each sentence
    noisy = stories.new_zeros(batch, slots + int(shift[:, -1].max()), width)
    target = (torch.arange(slots, device=stories.device) + shift).unsqueeze(-1).expand(batch, slots, width)
    noisy.scatter_(1, target, stories)  # padding rows land beyond the story and stay zero
    return noisy, lengths + shift[:, -1]


def train_memn2n(model: MemN2N, data: EncodedStories, epochs: int, *, batch_size: int = 32, lr: float = 0.01,
                 lr_decay: float = 1.0, linear_start_epochs: int = 0, max_grad_norm: float = 40.0,
                 algorithm: str = "adam", random_noise: float = 0.0,
                 generator: torch.Generator | None = None, progress: bool = True) -> dict[str, list[float]]:
    """Train an end-to-end memory network on encoded stories.

    Args:
        lr_decay: the learning rate is multiplied by this after every epoch (the paper halves it
            every 25 epochs).
        linear_start_epochs: epochs trained without the softmax of the hops (the paper's linear
            start, which avoids poor local minima on some tasks).
        algorithm: ``"adam"`` or ``"sgd"`` (the paper's; the loss is the batch mean, so the paper's
            step of 0.01 on a sum over 32 stories is ``lr=0.32`` here).
        random_noise: probability of an empty memory slot before each sentence, drawn anew for
            every batch (the paper's "RN": 10 %, to regularise the temporal encoding).

    Returns:
        ``{"loss": [...]}`` per step.
    """
    _check_common(model, epochs, lr, max_grad_norm, generator, progress, steps_name="epochs")
    checks.positive_ints(batch_size=batch_size)
    checks.number("lr_decay", lr_decay, 0.0, 1.0, low_open=True)
    checks.non_negative_int("linear_start_epochs", linear_start_epochs)
    checks.one_of("algorithm", algorithm, ("adam", "sgd"))
    checks.probability("random_noise", random_noise)
    device = _device(model)
    stories, queries, answers, lengths = (t.to(device) for t in data)
    optimizer = (torch.optim.Adam if algorithm == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, lr_decay)
    history: dict[str, list[float]] = {"loss": []}
    for epoch in tqdm(range(epochs), desc="MemN2N", disable=not progress):
        order = torch.randperm(len(answers), generator=generator).to(device)
        for batch in order.split(batch_size):
            memory, kept = stories[batch], lengths[batch]
            if random_noise > 0:
                memory, kept = _insert_empty_slots(memory, kept, random_noise, model.memory_size, generator)
            logits = model(memory, queries[batch], kept, linear=epoch < linear_start_epochs)
            loss = F.cross_entropy(logits, answers[batch])
            loss = optimizer_step(optimizer, loss, f"the story loss in epoch {epoch}", max_grad_norm)
            history["loss"].append(loss.item())
        scheduler.step()
    return history
