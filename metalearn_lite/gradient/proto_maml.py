"""Proto-MAML (Triantafillou et al., 2020): MAML whose output layer starts each task as a prototypical network.

MAML learns one initial output layer for every task, although a task's labels are an arbitrary
permutation of its classes; a zero-initialised head (as ``benchmarks/train_fewshot.py`` uses) is the
usual patch. Proto-MAML instead *builds* the head of each task from its support set. With ``c_k`` the
mean embedding of class ``k`` (its prototype, :func:`~metalearn_lite.metric.prototypes`), the squared
distance of a prototypical network expands into a linear layer,

    -||z - c_k||² = 2 c_kᵀ z - ||c_k||² - ||z||²,   so   W_k = 2 c_k,  b_k = -||c_k||²

(the ``-||z||²`` term is the same for every class and cancels in the softmax; Triantafillou et al.,
section 3.3, after Snell et al., section 2.4). MAML's inner loop then adapts every weight from that
start. The prototypes depend on the body's weights, so the meta-gradient also flows through the
initialisation into the body. In the inner loop the initial head is a variable of its own: its
gradient steps do not reach back through the prototypes into the body, so the inner gradients are
taken with ``torch.func`` (``functional_inner``: the ``functional=True`` of
:func:`~metalearn_lite.gradient.fast_weights.adapt`), which differentiates with respect to the values
it is given, while the outer backward pass still runs through how those values were made. Taught in
§4.2 (``notebooks/08_few_shot.ipynb``), which compares it with MAML and the prototypical network on
the same episodes.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from ..metric.protonet import prototypes
from ..tasks import LossFn
from .anil import head_input
from .fast_weights import Params
from .maml import MAML

__all__ = ["ProtoMAML", "prototype_head"]


def prototype_head(z_support: Tensor, y_support: Tensor, n_way: int) -> tuple[Tensor, Tensor]:
    """The linear layer equal to a prototypical network's scores, up to a per-example constant.

    Shapes:
        z_support ``(n_support, dim)``, y_support ``(n_support,)`` -> ``(weight (n_way, dim), bias (n_way,))``.
    """
    centres = prototypes(z_support, y_support, n_way)  # (n_way, dim)
    return 2 * centres, -centres.pow(2).sum(dim=-1)


class ProtoMAML(MAML):
    """MAML that initialises the linear ``head`` of each task from the support set's prototypes.

    Args:
        model: a network whose last module, ``head``, is an ``nn.Linear`` with ``n_way`` outputs
            (:class:`~metalearn_lite.nets.ConvNet4`).
        loss_fn, inner_lr, inner_steps, first_order: as for :class:`~metalearn_lite.MAML`
            (``learn_inner_lr`` is not offered; the meta-loss runs task by task).
        head: the name of the head module.

    Shapes:
        as for MAML; tasks are ``n_way``-way with labels ``0 .. n_way - 1``.
    """

    functional_inner = True  # the initial head is a variable of its own in the inner loop (module docstring)

    def __init__(self, model: nn.Module, loss_fn: LossFn = F.cross_entropy, inner_lr: float = 0.1,
                 inner_steps: int = 1, first_order: bool = False, head: str = "head") -> None:
        super().__init__(model, loss_fn, inner_lr, inner_steps, first_order, path="loop")
        module = dict(model.named_modules()).get(head)
        if not isinstance(module, nn.Linear) or module.bias is None:
            raise ValueError(f"head must name an nn.Linear with a bias in the model, got {head!r} "
                             f"({type(module).__name__ if module is not None else 'no such module'})")
        self.head, self.n_way = head, module.out_features

    def task_start(self, x_support: Tensor, y_support: Tensor) -> Params:
        """``θ`` with the head replaced by :func:`prototype_head` of the support set (differentiable in ``θ``).

        Shapes:
            x_support ``(n_support, *input_shape)``, y_support ``(n_support,)`` in ``0 .. n_way - 1``.
        """
        checks.labels("y_support", y_support, self.n_way, len(x_support))
        params = dict(self.model.named_parameters())
        weight, bias = prototype_head(head_input(self.model, self.head, x_support), y_support, self.n_way)
        return {**params, f"{self.head}.weight": weight, f"{self.head}.bias": bias}
