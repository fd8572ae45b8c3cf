"""ANIL, "almost no inner loop" (Raghu, Raghu, Bengio and Vinyals, 2020).

Raghu et al. asked whether MAML works by *rapid learning* (the inner loop reshaping every layer)
or by *feature reuse* (the body already giving features good for every task, the inner loop only
fitting the last layer). They found feature reuse: adapting only the head in the inner loop, and
meta-learning the body in the outer loop only, matches MAML's accuracy on Omniglot and
MiniImageNet at a fraction of the cost. ANIL is MAML whose adapted parameters are the head's:

    φ_head = θ_head - α ∇_{θ_head} L_support(θ_body, θ_head)
    θ ← θ - β ∇_θ mean_i L_query_i(θ_body, φ_head,i)

Because the body is not adapted, its output on a task's support set is the same at every inner step:
:meth:`ANIL.support_objective` computes it once per task and runs only the head in the inner loop,
which is where ANIL's saving comes from (the outer gradient still reaches the body through those
features). This needs the head to be the network's last module, applied once to the body's output
(``ConvNet4``'s ``head``, the ``MLP``'s ``layers.4``); the first call checks it.

Taught in §3.3 (``notebooks/05_gradient_based.ipynb``).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.func import functional_call

from .. import checks
from ..tasks import LossFn
from .fast_weights import LossOfParams, Params
from .learner import BilevelLearner

__all__ = ["ANIL", "head_input"]


def head_input(model: nn.Module, head: str, x: Tensor, params: Params | None = None) -> Tensor:
    """The input of ``model``'s last module ``head`` when the model runs on ``x`` (with ``params``, if given).

    ANIL adapts only the head, so this is computed once per task; Proto-MAML builds its head from it.

    Raises:
        ValueError: ``head`` is not the network's last module, applied once (then its input is not all
            the output depends on).

    Shapes:
        ``x`` ``(N, *input_shape)`` -> ``(N, *head_input_shape)``.
    """
    seen: list[tuple[Tensor, Tensor]] = []
    handle = model.get_submodule(head).register_forward_hook(lambda _m, args, out: seen.append((args[0], out)))
    try:
        out = model(x) if params is None else functional_call(model, params, (x,))
    finally:
        handle.remove()
    if len(seen) != 1 or seen[0][1] is not out:
        raise ValueError(f"{head!r} must be the network's last module, applied once; in {type(model).__name__} "
                         f"it ran {len(seen)} time(s)" + (" and did not produce the output" if len(seen) == 1 else ""))
    return seen[0][0]


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
        self._head_is_module = head in dict(model.named_modules())
        if checks.boolean("learn_inner_lr", learn_inner_lr):
            self._learn_inner_lrs()

    def initial_params(self) -> Params:
        """The head's parameters (the only ones the inner loop adapts)."""
        own = dict(self.model.named_parameters())
        return {name: own[name] for name in self.head_names}

    def apply(self, params: Params, x: Tensor) -> Tensor:
        """The network with its own body and the head ``params``."""
        return functional_call(self.model, {**dict(self.model.named_parameters()), **params}, (x,))

    def features(self, x: Tensor) -> Tensor:
        """The head's input for ``x``: the body's output, with the body's own (meta-learned) weights.

        Raises:
            ValueError: the head is not the network's last module, applied once (then its input is not
                all the adapted network depends on).

        Shapes:
            ``x`` ``(N, *input_shape)`` -> ``(N, *head_input_shape)``.
        """
        if not self._head_is_module:
            raise ValueError(f"ANIL can compute features only when {self.head!r} names a module")
        return head_input(self.model, self.head, x)

    def support_objective(self, x: Tensor, y: Tensor) -> LossOfParams:
        """``head params -> loss_fn(head(features(x)), y)``, with the body's features computed once."""
        if not self._head_is_module:  # the head names a single parameter: run the whole network every step
            return super().support_objective(x, y)
        features, prefix = self.features(x), len(self.head) + 1
        head = self.model.get_submodule(self.head)

        def loss(params: Params) -> Tensor:
            return self.loss_fn(functional_call(head, {k[prefix:]: v for k, v in params.items()}, (features,)), y)

        return loss
