"""The ``reduction=`` argument of every loss in the package, applied in one place.

Like ``torch.nn.functional``'s losses, each loss here computes one value per example and reduces
them with ``"mean"`` (the default), ``"sum"`` or ``"none"``. Used by the metric losses of §3.1
(``notebooks/03_metric_learning.ipynb``) and MetaGAN's losses of §3.4 (``notebooks/06_adversarial.ipynb``).
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["REDUCTIONS", "reduce_loss"]

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(losses: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) to per-example ``losses``.

    Raises:
        ValueError: any other ``reduction``.
    """
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
