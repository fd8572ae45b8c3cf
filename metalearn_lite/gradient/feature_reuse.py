"""Rapid learning or feature reuse? How much each layer changes when MAML adapts, measured by CKA.

Raghu et al. (2020) asked what MAML's inner loop does to a trained network: reshape every layer's
representation (rapid learning), or leave the body's features as they are and fit the head (feature
reuse). They compared each layer's representation of the same images before adaptation (the
meta-learned ``θ``) and after it (the task's ``φ``) with CKA, centred kernel alignment
(Kornblith et al., 2019), a similarity of two representations of the same ``n`` examples that ignores
rotations and scaling of the feature space:

    CKA(X, Y) = ||Yᵀ X||_F² / (||Xᵀ X||_F ||Yᵀ Y||_F),   X, Y centred over the examples,

1 for representations equal up to an orthogonal map and a scale. They found values near 1 for the
convolutional layers and much lower for the head, and built ANIL on that (``anil.py``). §4.2
(``notebooks/08_few_shot.ipynb``) repeats the measurement on the shipped MAML checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .. import checks
from .fast_weights import Params

__all__ = ["layer_outputs", "linear_cka"]


def linear_cka(x: Tensor, y: Tensor) -> Tensor:
    """Linear CKA between two representations of the same examples (Kornblith et al. 2019, eq. 5).

    Shapes:
        ``x`` ``(n, p)``, ``y`` ``(n, q)`` (rows are the same ``n`` examples) -> a scalar in ``[0, 1]``.
    """
    checks.tensor("x", x, dim=2, floating=True)
    checks.tensor("y", y, dim=2, floating=True)
    if x.shape[0] != y.shape[0] or x.shape[0] < 2:
        raise ValueError(f"x and y must hold the same n >= 2 examples as rows, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    x, y = x - x.mean(0), y - y.mean(0)
    if len(x) < max(x.shape[1], y.shape[1]):  # fewer examples than features: the (n, n) Gram matrices are cheaper
        k, l_ = x @ x.T, y @ y.T  # ||Yᵀ X||_F² = <X Xᵀ, Y Yᵀ>_F and ||Xᵀ X||_F = ||X Xᵀ||_F
        cross, norm = (k * l_).sum(), (k.pow(2).sum() * l_.pow(2).sum()).sqrt()
    else:
        cross = (y.T @ x).pow(2).sum()
        norm = (x.T @ x).pow(2).sum().sqrt() * (y.T @ y).pow(2).sum().sqrt()
    if norm == 0:
        raise ValueError("a representation is constant over the examples: CKA is undefined")
    return cross / norm


def layer_outputs(model: nn.Module, params: Params | None, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
    """The output of each named submodule when ``model`` runs on ``x`` with ``params``, one row per example.

    Args:
        model: the network (e.g. a learner's ``model``).
        params: weights to run it with (fast weights from ``adapt``); ``None``: its own.
        x: a batch of inputs.
        layers: names as in ``model.named_modules()``, e.g. ``"features.blocks.0"``, ``"head"``.

    Shapes:
        ``x`` ``(n, ...)`` -> ``{layer: (n, features)}``, each output flattened.
    """
    checks.module("model", model)
    names = dict(model.named_modules())
    unknown = [name for name in layers if name not in names]
    if unknown or not layers:
        raise ValueError(f"layers must name submodules of the model, got {list(layers)}; it has {list(names)[1:8]}...")
    outputs: dict[str, Tensor] = {}
    hooks = [names[name].register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
             for name in layers]
    try:
        with torch.no_grad():
            if params is None:
                model(x)
            else:
                functional_call(model, params, (x,))
    finally:
        for hook in hooks:
            hook.remove()
    return {name: outputs[name].reshape(len(x), -1) for name in layers}
