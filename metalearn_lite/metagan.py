"""MetaGAN (Zhang et al., 2018) on top of MAML: a few-shot classifier that also flags fakes.

MetaGAN adds a *task-conditioned generator* to a few-shot learner. The learner, an ``N``-way
classifier, becomes the discriminator of an ``(N+1)``-way problem: the ``N`` real classes of the
task, plus one class for samples made by the generator for that task. The argument of the paper is
the one of semi-supervised GANs (Salimans et al., 2016; Dai et al., 2017): fakes that lie *near*
the task's data but off it force the classifier to bound each class tightly, which may sharpen its
decision boundaries when it has seen only a few examples.

This module implements the MAML variant of the paper, small and explicit:

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
matter), and the average is concatenated to Gaussian noise before decoding. Chapter 3.4 trains it
on a 2-D few-shot problem and measures whether the fake class helps.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from .losses import reduce_loss
from .maml import MAML, _check_lr, _check_positive_int, check_tasks
from .nets import MLP
from .tasks import Task

__all__ = [
    "MetaGAN",
    "TaskConditionedGenerator",
    "fake_class_loss",
    "fake_probability",
    "generator_loss",
    "with_fake_logit",
]

def _check_logits(logits: Tensor) -> None:
    if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.shape[1] < 1:
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"logits must be (n, n_way) with n_way >= 1, got {shape}")


def with_fake_logit(logits: Tensor) -> Tensor:
    """Append the fake class's logit, fixed at zero, to ``N`` real-class logits.

    Fixing one logit loses nothing: a softmax is unchanged when the same number is added to every
    logit, so ``N`` free logits can express any ``N+1``-way distribution.

    Shapes:
        logits: ``(n, N)`` -> ``(n, N + 1)``; column ``N`` is the fake class.
    """
    _check_logits(logits)
    return torch.cat([logits, logits.new_zeros(logits.shape[0], 1)], dim=1)


def fake_probability(logits: Tensor) -> Tensor:
    """``p(fake | x) = 1 / (1 + Σ_k exp l_k)``, computed stably as ``sigmoid(-logsumexp(l))``.

    Shapes:
        logits: ``(n, N)`` -> ``(n,)``.
    """
    _check_logits(logits)
    return torch.sigmoid(-torch.logsumexp(logits, dim=1))


def fake_class_loss(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``(N+1)``-way cross-entropy: labels ``0 .. N-1`` are the real classes, label ``N`` is "fake".

    For a real example this is the usual cross-entropy plus a penalty for calling it fake; for a
    fake one it is ``-log p(fake | x)``.

    Shapes:
        logits: ``(n, N)``; target: ``(n,)`` integers in ``[0, N]`` -> a scalar, or ``(n,)`` with
        ``reduction="none"``.
    """
    _check_logits(logits)
    if not isinstance(target, Tensor) or target.shape != logits.shape[:1] or target.dtype.is_floating_point:
        got = f"{target.dtype} {tuple(target.shape)}" if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(f"target must be ({logits.shape[0]},) integer labels in [0, {logits.shape[1]}], got {got}")
    # No check of the label values here: it would need data-dependent control flow, which
    # torch.func.vmap (MAML's batched path) cannot run. MetaGAN checks the tasks' labels instead.
    return reduce_loss(F.cross_entropy(with_fake_logit(logits), target, reduction="none"), reduction)


def generator_loss(logits: Tensor, reduction: str = "mean") -> Tensor:
    """The generator's non-saturating loss ``-log(1 - p(fake | x))`` on its own samples' logits.

    ``1 - p(fake) = S / (1 + S)`` with ``S = Σ_k exp l_k``, so the loss is ``softplus(-logsumexp(l))``:
    small when the discriminator puts its mass on the real classes.

    Shapes:
        logits: ``(n, N)`` -> a scalar, or ``(n,)`` with ``reduction="none"``.
    """
    _check_logits(logits)
    return reduce_loss(F.softplus(-torch.logsumexp(logits, dim=1)), reduction)


class TaskConditionedGenerator(nn.Module):
    """Makes samples for a task from noise and a summary of the task's support set.

    ``h = mean_i encoder(x_i)`` over the support examples, then ``x_fake = decoder([z, h])`` with
    ``z ~ N(0, I)``. Averaging makes ``h`` independent of the order and number of support examples.

    Args:
        n_features: size of one example (2 for points in the plane).
        noise_dim: size of ``z``.
        hidden: width of the encoder's and decoder's hidden layers and of ``h``.

    Shapes:
        x_support: ``(n_support, n_features)`` -> ``(num_samples, n_features)``.
    """

    def __init__(self, n_features: int, noise_dim: int = 8, hidden: int = 64) -> None:
        super().__init__()
        for name, value in (("n_features", n_features), ("noise_dim", noise_dim), ("hidden", hidden)):
            _check_positive_int(name, value)
        self.n_features, self.noise_dim = n_features, noise_dim
        self.encoder = MLP(n_features, (hidden,), hidden)
        self.decoder = MLP(noise_dim + hidden, (hidden, hidden), n_features)

    def forward(self, x_support: Tensor, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
        if not isinstance(x_support, Tensor) or x_support.dim() != 2 or x_support.shape[1] != self.n_features:
            shape = tuple(x_support.shape) if isinstance(x_support, Tensor) else type(x_support).__name__
            raise ValueError(f"x_support must be (n_support, {self.n_features}), got {shape}")
        if x_support.shape[0] == 0:
            raise ValueError("x_support must hold at least one example, got none")
        _check_positive_int("num_samples", num_samples)
        device = generator.device if generator is not None else x_support.device
        z = torch.randn(num_samples, self.noise_dim, generator=generator, device=device, dtype=x_support.dtype)
        task = self.encoder(x_support).mean(dim=0)  # (hidden,)
        return self.decoder(torch.cat([z.to(x_support.device), task.expand(num_samples, -1)], dim=1))


class MetaGAN(nn.Module):
    """MAML as the discriminator of an ``(N+1)``-way real-vs-fake problem, with a task-conditioned generator.

    Args:
        model: the classifier network, with ``n_way`` outputs (the fake logit is added, fixed at 0).
        generator: makes the fakes of a task from its support set (e.g. :class:`TaskConditionedGenerator`).
        n_way: number of real classes ``N`` per task; label ``n_way`` means "fake".
        num_fake: fakes added to each task's support set, and as many to its query set.
        inner_lr, inner_steps, first_order: the discriminator's MAML settings (see :class:`~metalearn_lite.MAML`).

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
        if not isinstance(generator, nn.Module):
            raise TypeError(f"generator must be an nn.Module, got {type(generator).__name__}")
        if isinstance(n_way, bool) or not isinstance(n_way, int) or n_way < 2:
            raise ValueError(f"n_way must be an int >= 2, got {n_way!r}")
        self.n_way = n_way
        self.num_fake = _check_positive_int("num_fake", num_fake)
        self.maml = MAML(model, fake_class_loss, _check_lr("inner_lr", inner_lr), inner_steps, first_order)
        self.generator = generator

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.maml.parameters())

    def generator_parameters(self) -> list[nn.Parameter]:
        return list(self.generator.parameters())

    def _fakes(self, task: Task, num: int, rng: torch.Generator | None) -> Tensor:
        return self.generator(task.x_support, num, generator=rng)

    def _fake_labels(self, like: Tensor, num: int) -> Tensor:
        return torch.full((num,), self.n_way, dtype=like.dtype, device=like.device)

    def _check_labels(self, tasks: list[Task]) -> None:
        for i, t in enumerate(tasks):
            for name, y in (("y_support", t.y_support), ("y_query", t.y_query)):
                if y.dtype.is_floating_point or y.dim() != 1 or (len(y) and (y.min() < 0 or y.max() >= self.n_way)):
                    raise ValueError(f"tasks[{i}].{name} must hold integer labels in [0, {self.n_way - 1}]")

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
        tasks = check_tasks(tasks)
        self._check_labels(tasks)
        return self.maml.meta_loss([self.with_fakes(t, rng) for t in tasks])

    def generator_loss(self, tasks: Sequence[Task], rng: torch.Generator | None = None) -> Tensor:
        """Mean of :func:`generator_loss` over tasks, each scored by the discriminator adapted to it.

        ``.backward()`` reaches only the generator: the discriminator's adapted weights are constants
        here. All tasks are adapted at once with ``torch.func.vmap`` when MAML would batch them
        (:meth:`~metalearn_lite.MAML.path_for`), else one after another.
        """
        tasks = check_tasks(tasks)
        self._check_labels(tasks)
        fakes = [self._fakes(t, 2 * self.num_fake, rng) for t in tasks]  # each (2 * num_fake, n_features)
        support = [torch.cat([t.x_support, f[: self.num_fake].detach()]) for t, f in zip(tasks, fakes, strict=True)]
        labels = [torch.cat([t.y_support, self._fake_labels(t.y_support, self.num_fake)]) for t in tasks]
        scored = [f[self.num_fake :] for f in fakes]
        if self.maml.path_for(tasks) == "vmap":
            theta = {k: v.detach() for k, v in self.maml.model.named_parameters()}
            fast = vmap(self._adapt_one, in_dims=(None, 0, 0))(theta, torch.stack(support), torch.stack(labels))
            logits = vmap(self._logits)(fast, torch.stack(scored))  # (n_tasks, num_fake, n_way)
            return generator_loss(logits.flatten(0, 1))
        total = 0.0
        for x, y, f in zip(support, labels, scored, strict=True):
            with torch.no_grad():
                fast = self.maml.adapt(x, y)
            total = total + generator_loss(self.maml(f, fast))
        return total / len(tasks)

    def _logits(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(self.maml.model, params, (x,))

    def _adapt_one(self, theta: dict[str, Tensor], x_support: Tensor, y_support: Tensor) -> dict[str, Tensor]:
        """MAML's inner SGD loop as a pure function, for ``vmap`` (first order: nothing flows back)."""
        fast = theta
        for _ in range(self.maml.inner_steps):
            grads = grad(lambda p: fake_class_loss(self._logits(p, x_support), y_support))(fast)
            fast = {k: v - self.maml.inner_lr * grads[k].detach() for k, v in fast.items()}
        return fast

    def predict(self, task: Task, rng: torch.Generator | None = None, use_fakes: bool = True) -> Tensor:
        """Predicted real class of each query example after adapting on the support set.

        Args:
            use_fakes: adapt on the support set plus ``num_fake`` fakes, as in training (default);
                ``False`` adapts on the real support examples only.

        Shapes:
            returns ``(n_query,)`` labels in ``[0, n_way - 1]``.
        """
        self._check_labels(check_tasks([task]))
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
        d_optimizer.zero_grad(set_to_none=True)
        d_loss = self.discriminator_loss(tasks, rng)
        d_loss.backward()
        d_optimizer.step()
        g_optimizer.zero_grad(set_to_none=True)
        self.generator_loss(tasks, rng).backward()
        g_optimizer.step()
        return d_loss.item()
