"""ANIL, "almost no inner loop" (Raghu, Raghu, Bengio and Vinyals, 2020).

Raghu et al. asked whether MAML works by *rapid learning* (the inner loop reshaping every layer)
or by *feature reuse* (the body already giving features good for every task, the inner loop only
fitting the last layer). They found feature reuse: adapting only the head in the inner loop, and
meta-learning the body in the outer loop only, matches MAML's accuracy on Omniglot and
MiniImageNet at a fraction of the cost. ANIL is MAML whose adapted parameters are the head's:

    φ_head = θ_head - α ∇_{θ_head} L_support(θ_body, θ_head)
    θ ← θ - β ∇_θ mean_i L_query_i(θ_body, φ_head,i)

Taught in §3.3 (``notebooks/05_gradient_based.ipynb``).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.func import functional_call

from .. import checks
from ..tasks import LossFn
from .fast_weights import Params
from .learner import BilevelLearner

__all__ = ["ANIL"]


class ANIL(BilevelLearner):
    """MAML that adapts only the parameters whose names start with ``head``.

    Args:
        model: the network; ``ConvNet4`` names its last layer ``head``; the default ``MLP`` names it
            ``layers.4`` (pass ``head="layers.4"``, as §3.3 does).
        loss_fn, inner_lr, inner_steps, first_order, learn_inner_lr, path: as for
            :class:`~metalearn_lite.MAML` (the paper: inner lr 0.4 and first order on Omniglot too).
        head: the name prefix of the adapted parameters (e.g. ``"head"`` adapts ``head.weight`` and
            ``head.bias``).

    Raises:
        ValueError: no parameter of ``model`` starts with ``head``; and the checks of MAML's arguments.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, inner_lr: float, inner_steps: int = 1,
                 first_order: bool = False, learn_inner_lr: bool = False, path: str = "auto",
                 head: str = "head") -> None:
        super().__init__(model, loss_fn, inner_lr, inner_steps, first_order, path)
        if not isinstance(head, str) or not head:
            raise TypeError(f"head must be a non-empty parameter-name prefix, got {head!r}")
        names = [n for n, _ in model.named_parameters()]
        self.head_names = [n for n in names if n == head or n.startswith(head + ".")]
        if not self.head_names:
            raise ValueError(f"no parameter of the model is named {head!r} or {head}.*; its parameters: {names}")
        self.head = head
        if checks.boolean("learn_inner_lr", learn_inner_lr):
            self._learn_inner_lrs()

    def initial_params(self) -> Params:
        """The head's parameters (the only ones the inner loop adapts)."""
        own = dict(self.model.named_parameters())
        return {name: own[name] for name in self.head_names}

    def apply(self, params: Params, x: Tensor) -> Tensor:
        """The network with its own body and the head ``params``."""
        return functional_call(self.model, {**dict(self.model.named_parameters()), **params}, (x,))
