"""The fake class of MetaGAN (Zhang et al., 2018): its logit, its probability and the two GAN losses.

MetaGAN turns an ``N``-way few-shot classifier into the discriminator of an ``(N+1)``-way
problem: the task's ``N`` real classes plus one class for the generator's samples. The fake
class gets a logit fixed at zero (Salimans et al., 2016), so ``p(fake | x) = 1 / (1 + Σ_k exp l_k(x))``
and the classifier keeps its ``N`` outputs. Taught in §3.4 (``notebooks/06_adversarial.ipynb``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import checks
from ..reduction import reduce_loss

__all__ = ["fake_class_loss", "fake_probability", "generator_loss", "with_fake_logit"]


def _check_logits(logits: Tensor, n_way: int | None = None) -> None:
    checks.tensor("logits", logits, dim=2, floating=True)
    if logits.shape[1] < 1 or (n_way is not None and logits.shape[1] != n_way):
        want = "n_way >= 1" if n_way is None else f"n_way = {n_way}"
        raise ValueError(f"logits must be (n, n_way) with {want} columns, got shape {tuple(logits.shape)}")


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


def fake_class_loss(logits: Tensor, target: Tensor, reduction: str = "mean", n_way: int | None = None) -> Tensor:
    """``(N+1)``-way cross-entropy: labels ``0 .. N-1`` are the real classes, label ``N`` is "fake".

    For a real example this is the usual cross-entropy plus a penalty for calling it fake; for a
    fake one it is ``-log p(fake | x)``.

    Args:
        n_way: when given, the number of real classes the logits must have (a classifier with the
            wrong number of outputs is refused instead of training on the wrong fake label).

    Shapes:
        logits: ``(n, N)``; target: ``(n,)`` integers in ``[0, N]`` -> a scalar, or ``(n,)`` with
        ``reduction="none"``.
    """
    _check_logits(logits, n_way)
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


