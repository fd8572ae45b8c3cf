"""Pretrain on every training class, then fit a new head on each task: the control every meta-learner needs.

Chen et al. (2019), "A Closer Look at Few-shot Classification", showed that this plain transfer
recipe is a strong few-shot baseline when it is given the same backbone and care as the
meta-learners:

1. **Pretrain** an encoder and a classifier over *all* training classes at once, with ordinary
   mini-batches and cross-entropy (no episodes, no inner loop).
2. **Per task**, freeze the encoder, embed the support set, train a *new* classifier on those
   embeddings, and classify the queries with it.

Their "Baseline" uses a linear classifier; "Baseline++" a cosine classifier, whose scores are the
scaled cosine similarities between an embedding and one weight vector per class, which they found
reduces the spread of each class's features. :class:`TransferBaseline` does both (``head="linear"``
or ``"cosine"``). Our choices where we did not take theirs: the new head is trained with Adam
(learning rate 0.01, 100 full-batch steps), the linear head starts at zero and the cosine head from
a fixed random draw, and the cosine scale is 10. §4.2 (``notebooks/08_few_shot.ipynb``) compares it
with the meta-learners on the same Omniglot episodes; ``benchmarks/train_fewshot.py`` trains it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from ..tasks import Task

__all__ = ["HEADS", "CosineClassifier", "TransferBaseline"]

HEADS = ("linear", "cosine")


class CosineClassifier(nn.Module):
    """Scores ``scale · cos(z, w_c)``: the classifier of Chen et al.'s Baseline++.

    Shapes:
        ``(n, in_features)`` -> ``(n, n_classes)``.
    """

    def __init__(self, in_features: int, n_classes: int, scale: float = 10.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        checks.positive_ints(in_features=in_features, n_classes=n_classes)
        self.scale = checks.positive_number("scale", scale)
        self.weight = nn.Parameter(torch.randn(n_classes, in_features, generator=generator) / in_features**0.5)

    def forward(self, z: Tensor) -> Tensor:
        return self.scale * F.normalize(z, dim=-1) @ F.normalize(self.weight, dim=-1).T


def _head(kind: str, in_features: int, n_classes: int, scale: float, zero: bool) -> nn.Module:
    if kind == "cosine":
        return CosineClassifier(in_features, n_classes, scale, generator=torch.Generator().manual_seed(0))
    head = nn.Linear(in_features, n_classes)
    if zero:
        nn.init.zeros_(head.weight), nn.init.zeros_(head.bias)
    return head


class TransferBaseline(nn.Module):
    """An encoder pretrained with a classifier over all training classes; a new head per task.

    Args:
        encoder: ``(n, *input_shape) -> (n, feature_dim)``, e.g. :class:`~metalearn_lite.nets.ConvEncoder`.
        feature_dim: the encoder's output size.
        n_classes: number of training classes (the pretraining head's outputs).
        head: ``"linear"`` (Baseline) or ``"cosine"`` (Baseline++).
        scale: the cosine classifier's scale.
        finetune_steps, finetune_lr: Adam steps and learning rate of the new head on a task's support set.

    Shapes:
        ``forward(x (n, *input_shape))`` -> pretraining logits ``(n, n_classes)``;
        ``predict(task)`` -> ``(n_query,)`` labels in ``0 .. n_way - 1``.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int, n_classes: int, head: str = "linear",
                 scale: float = 10.0, finetune_steps: int = 100, finetune_lr: float = 0.01) -> None:
        super().__init__()
        self.encoder = checks.module("encoder", encoder)
        checks.positive_ints(feature_dim=feature_dim, n_classes=n_classes, finetune_steps=finetune_steps)
        self.kind = checks.one_of("head", head, HEADS)
        self.scale = checks.positive_number("scale", scale)
        self.finetune_steps, self.finetune_lr = finetune_steps, checks.positive_number("finetune_lr", finetune_lr)
        self.feature_dim = feature_dim
        self.classifier = _head(head, feature_dim, n_classes, scale, zero=False)

    def forward(self, x: Tensor) -> Tensor:
        checks.tensor("x", x)
        checks.matches_model("x", x, self.encoder)
        return self.classifier(self.encoder(x))

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """Cross-entropy over all training classes: the pretraining loss of one mini-batch."""
        logits = self(x)
        checks.labels("y", y, logits.shape[1], len(x))
        return F.cross_entropy(logits, y)

    def fit_head(self, z_support: Tensor, y_support: Tensor, n_way: int) -> nn.Module:
        """A new ``n_way`` head trained on fixed support embeddings (the encoder is not touched).

        Shapes:
            z_support ``(n_support, feature_dim)``, y_support ``(n_support,)``
            -> a head ``(n, feature_dim) -> (n, n_way)``.
        """
        checks.labels("y_support", y_support, n_way, len(z_support))
        head = _head(self.kind, self.feature_dim, n_way, self.scale, zero=True).to(z_support)
        optimizer = torch.optim.Adam(head.parameters(), lr=self.finetune_lr)
        z_support = z_support.detach()
        with torch.enable_grad():
            for step in range(self.finetune_steps):
                loss = checks.finite_loss(F.cross_entropy(head(z_support), y_support),
                                          f"the new head's support loss at step {step}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return head

    def predict(self, task: Task) -> Tensor:
        """``(n_query,)`` labels: embed with the frozen encoder, fit a new head on the support set, classify.

        The encoder runs in evaluation mode (batch normalisation with its running statistics, which
        stay as they are), whatever mode the module is in.
        """
        n_way = int(task.y_support.max()) + 1
        was_training = self.encoder.training
        try:
            self.encoder.eval()
            with torch.no_grad():
                z = self.encoder(torch.cat([task.x_support, task.x_query]))
        finally:
            self.encoder.train(was_training)
        head = self.fit_head(z[: len(task.x_support)], task.y_support, n_way)
        with torch.no_grad():
            return head(z[len(task.x_support):]).argmax(dim=1)
