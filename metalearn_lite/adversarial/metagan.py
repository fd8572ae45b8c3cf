"""MetaGAN (Zhang et al., 2018) on top of MAML: a few-shot classifier that also flags fakes.

MetaGAN adds a *task-conditioned generator* to a few-shot learner. The learner, an ``N``-way
classifier, becomes the discriminator of an ``(N+1)``-way problem: the ``N`` real classes of the
task, plus one class for samples made by the generator for that task. The argument of the paper is
the one of semi-supervised GANs (Salimans et al., 2016; Dai et al., 2017): fakes that lie *near*
the task's data but off it force the classifier to bound each class tightly, which may sharpen its
decision boundaries when it has seen only a few examples.

This module implements the MAML variant of the paper, small and explicit (the fake class's losses
are in :mod:`~metalearn_lite.adversarial.fake_class`, the generator in
:mod:`~metalearn_lite.adversarial.generator`):

* The discriminator is a :class:`~metalearn_lite.MAML` learner whose network outputs ``N`` logits;
  the fake class gets a logit fixed at zero (Salimans et al., 2016), so ``p(fake | x) =
  1 / (1 + Σ_k exp l_k(x))`` (:func:`with_fake_logit`, :func:`fake_probability`).
* Discriminator step (:meth:`MetaGAN.discriminator_loss`): fakes, generated for each task from its
  support set and detached, are added to the support and query sets with label ``N``; MAML's
  meta-loss of :func:`fake_class_loss` (``(N+1)``-way cross-entropy) is then minimised as usual, so
  the inner loop adapts on real *and* fake support examples.
* Generator step (:meth:`MetaGAN.generator_loss`): the discriminator, adapted on the task's support
  set and fakes (weights detached), scores fresh fakes; the generator minimises the non-saturating
  loss ``-log(1 - p(fake | G(z)))`` (:func:`generator_loss`). Gradients do not flow through the
  discriminator's adaptation into the generator: a simplification of this implementation.
* Prediction (:meth:`MetaGAN.predict`): adapt on the support set (plus fakes, as in training), then
  take the arg max over the ``N`` real logits.

The generator (:class:`TaskConditionedGenerator`) sees the task only through its support set:
each support example is encoded, the codes are averaged (so the order of examples does not
matter), and the average is concatenated to Gaussian noise before decoding. §3.4
(``notebooks/06_adversarial.ipynb``) trains it on a 2-D few-shot problem and measures whether the
fake class helps.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn

from .. import checks
from ..gradient import MAML, call_per_task
from ..tasks import Task
from ..training import optimizer_step
from .fake_class import fake_class_loss, generator_loss

__all__ = ["MetaGAN"]


class MetaGAN(nn.Module):
    """MAML as the discriminator of an ``(N+1)``-way real-vs-fake problem, with a task-conditioned generator.

    Args:
        model: the classifier network, with ``n_way`` outputs (the fake logit is added, fixed at 0).
        generator: makes the fakes of a task from its support set (e.g. :class:`TaskConditionedGenerator`).
        n_way: number of real classes ``N`` per task; label ``n_way`` means "fake".
        num_fake: fakes added to each task's support set, and as many to its query set.
        inner_lr, inner_steps, first_order: the discriminator's MAML settings (see :class:`~metalearn_lite.MAML`).

    The methods take ``rng``, the ``torch.Generator`` of the generator's noise (``generator`` names
    the network here).

    Attributes:
        maml: the discriminator, ``MAML(model, fake_class_loss, ...)``; its parameters are the
            classifier's. ``generator``'s parameters are separate: train the two with two optimisers
            (:meth:`discriminator_parameters`, :meth:`generator_parameters`).

    Raises:
        TypeError: ``generator`` is not an ``nn.Module``.
        ValueError: ``n_way < 2``, ``num_fake < 1``, or bad MAML settings.
    """

    def __init__(
        self,
        model: nn.Module,
        generator: nn.Module,
        n_way: int,
        num_fake: int,
        inner_lr: float,
        inner_steps: int = 1,
        first_order: bool = False,
    ) -> None:
        super().__init__()
        self.generator = checks.module("generator", generator)
        self.n_way = checks.int_at_least("n_way", n_way, 2)
        self.num_fake = checks.positive_int("num_fake", num_fake)
        self.maml = MAML(model, partial(fake_class_loss, n_way=n_way), inner_lr, inner_steps, first_order)

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.maml.parameters())

    def generator_parameters(self) -> list[nn.Parameter]:
        return list(self.generator.parameters())

    def _fakes(self, task: Task, num: int, rng: torch.Generator | None) -> Tensor:
        return self.generator(task.x_support, num, generator=rng)

    def _fake_labels(self, like: Tensor, num: int) -> Tensor:
        return torch.full((num,), self.n_way, dtype=like.dtype, device=like.device)

    def _check(self, tasks: object) -> list[Task]:
        tasks = checks.check_tasks(tasks)
        for i, t in enumerate(tasks):
            for name in ("y_support", "y_query"):
                checks.labels(f"tasks[{i}].{name}", getattr(t, name), self.n_way)
            self.maml.check_data(f"tasks[{i}].x_support", t.x_support)
        return tasks

    def with_fakes(self, task: Task, rng: torch.Generator | None = None) -> Task:
        """``task`` with ``num_fake`` detached fakes appended to its support and to its query set, label ``n_way``.

        Shapes:
            support grows from ``n_support`` to ``n_support + num_fake`` rows, query likewise.
        """
        with torch.no_grad():
            fakes = self._fakes(task, 2 * self.num_fake, rng)
        labels = self._fake_labels(task.y_support, self.num_fake)
        return Task(
            torch.cat([task.x_support, fakes[: self.num_fake]]), torch.cat([task.y_support, labels]),
            torch.cat([task.x_query, fakes[self.num_fake :]]), torch.cat([task.y_query, labels]),
        )

    def discriminator_loss(self, tasks: Sequence[Task], rng: torch.Generator | None = None) -> Tensor:
        """MAML's meta-loss of the ``(N+1)``-way problem; ``.backward()`` reaches only the classifier."""
        tasks = self._check(tasks)
        return self.maml._meta_loss([self.with_fakes(t, rng) for t in tasks])

    def generator_loss(self, tasks: Sequence[Task], rng: torch.Generator | None = None) -> Tensor:
        """Mean of :func:`generator_loss` over tasks, each scored by the discriminator adapted to it.

        ``.backward()`` reaches only the generator: the discriminator's adapted weights are constants
        here. The tasks are adapted with :meth:`~metalearn_lite.gradient.GradientLearner.adapt_each`
        (all at once with ``vmap`` when MAML would batch them), and each task's fakes are scored by its
        own adapted weights with :func:`~metalearn_lite.gradient.call_per_task`.

        Shapes:
            tasks of identical shapes (the fakes are stacked per task).
        """
        tasks = self._check(tasks)
        fakes = torch.stack([self._fakes(t, 2 * self.num_fake, rng) for t in tasks])  # (n_tasks, 2 * num_fake, d)
        support = torch.stack([torch.cat([t.x_support, f[: self.num_fake].detach()]) for t, f in zip(tasks, fakes,
                                                                                                      strict=True)])
        labels = torch.stack([torch.cat([t.y_support, self._fake_labels(t.y_support, self.num_fake)]) for t in tasks])
        fast = self.maml.adapt_each(support, labels)
        logits = call_per_task(self.maml.model, fast, fakes[:, self.num_fake :])  # (n_tasks, num_fake, n_way)
        return generator_loss(logits.flatten(0, 1))

    def predict(self, task: Task, rng: torch.Generator | None = None, use_fakes: bool = True) -> Tensor:
        """Predicted real class of each query example after adapting on the support set.

        Args:
            use_fakes: adapt on the support set plus ``num_fake`` fakes, as in training (default);
                ``False`` adapts on the real support examples only.

        Shapes:
            returns ``(n_query,)`` labels in ``[0, n_way - 1]``.
        """
        self._check([task])
        checks.boolean("use_fakes", use_fakes)
        x, y = task.x_support, task.y_support
        if use_fakes:
            faked = self.with_fakes(task, rng)
            x, y = faked.x_support, faked.y_support
        with torch.no_grad():
            fast = self.maml.adapt(x, y)
            return self.maml(task.x_query, fast).argmax(dim=1)

    def step(
        self,
        tasks: Sequence[Task],
        d_optimizer: torch.optim.Optimizer,
        g_optimizer: torch.optim.Optimizer,
        rng: torch.Generator | None = None,
    ) -> float:
        """One discriminator update then one generator update on ``tasks``; returns the discriminator's loss.

        Usable as the step of :func:`~metalearn_lite.training.meta_train` via ``functools.partial``.
        """
        d_loss = optimizer_step(d_optimizer, self.discriminator_loss(tasks, rng), "the discriminator's meta-loss")
        optimizer_step(g_optimizer, self.generator_loss(tasks, rng), "the generator's loss")
        return d_loss.item()
