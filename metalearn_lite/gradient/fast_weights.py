"""The fast-weights kernel: the inner loop of every gradient-based learner, written once.

A gradient-based meta-learner adapts some parameters ``φ`` to a task with a few SGD steps on the
task's support loss, starting from a meta-learned point:

    φ_0 = start,   φ_{s+1} = φ_s - α ⊙ ∇_φ L_support(φ_s),   s = 0 .. inner_steps - 1

MAML, first-order MAML and Meta-SGD adapt all the weights (``α`` one number, or one learned tensor
per weight); ANIL adapts only the head; CAVIA adapts a context vector fed to the network; Reptile
runs the same steps without keeping their graph; MetaGAN's discriminator and MAML for RL are MAML
with other losses. All of them call :func:`adapt` with a *loss of the parameters*, the style of
learn2learn's ``learner.adapt(loss)`` made functional: the caller closes over its data.

Parameters are a ``dict[str, Tensor]`` applied with ``torch.func.functional_call``; nothing is
cloned or stored on tensors. Two ways to take the inner gradient compute the same numbers:

* ``functional=False``: ``torch.autograd.grad``, with ``create_graph=True`` when the result must
  be differentiated again (second-order MAML). It runs the native batch-norm kernel and is the
  one to use task after task (the ``"loop"`` path).
* ``functional=True``: ``torch.func.grad_and_value``, which ``torch.func.vmap`` can batch over tasks
  (the ``"vmap"`` path). Outer ``autograd`` still differentiates through it.

:func:`call_per_task` applies one set of weights per task with ``vmap`` (fine-tuned baselines, the
RL policy after adaptation, MetaGAN's scored fakes), and :func:`choose_path` is the one rule that
picks between the loop and vmap paths. Taught in §3.3 (``notebooks/05_gradient_based.ipynb``);
§4.1 (``notebooks/07_maml_from_scratch.ipynb``) writes the same loop by hand and checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, vmap

from ..tasks import Task

__all__ = ["PATHS", "LossOfParams", "Params", "adapt", "call_per_task", "choose_path", "prefers_vmap"]

Params = dict[str, Tensor]
LossOfParams = Callable[[Params], Tensor]
PATHS = ("auto", "loop", "vmap")


def adapt(
    loss_of_params: LossOfParams,
    params: Params,
    inner_lr: float | Params,
    inner_steps: int = 1,
    *,
    first_order: bool = False,
    functional: bool = False,
) -> tuple[Params, Tensor]:
    """``inner_steps`` SGD steps ``φ ← φ - α ∇_φ loss_of_params(φ)`` from ``params``.

    Args:
        loss_of_params: the support loss as a function of the parameters being adapted.
        params: the starting point ``φ_0`` (every entry is adapted).
        inner_lr: one step size, or one tensor per entry of ``params`` (Meta-SGD).
        first_order: treat the inner gradients as constants (first-order MAML, Reptile); otherwise
            the result can be differentiated twice whenever gradients are enabled.
        functional: take gradients with ``torch.func`` (required inside ``torch.func.vmap``).

    Returns:
        ``(fast, losses)``: the adapted parameters (detached when gradients are disabled and
        ``functional`` is false) and the ``(inner_steps,)`` support losses before each step. The
        caller checks ``losses`` for non-finite values (:func:`~metalearn_lite.checks.raise_if_non_finite`);
        under ``vmap`` no data-dependent check can run here.

    Shapes:
        every ``fast[k]`` has the shape of ``params[k]``.
    """
    if not params:
        raise ValueError("params is empty: the model has no parameters to adapt")
    lrs = inner_lr if isinstance(inner_lr, dict) else dict.fromkeys(params, inner_lr)
    losses: list[Tensor] = []
    if functional:
        fast = params
        for _ in range(inner_steps):
            grads, loss = grad_and_value(loss_of_params)(fast)
            if first_order:
                grads = {k: g.detach() for k, g in grads.items()}
            fast = {k: v - lrs[k] * grads[k] for k, v in fast.items()}
            losses.append(loss.detach())
        return fast, torch.stack(losses)
    outer_grad = torch.is_grad_enabled()
    with torch.enable_grad():
        fast = {k: v if v.requires_grad else v.detach().requires_grad_() for k, v in params.items()}
        for _ in range(inner_steps):
            loss = loss_of_params(fast)
            if not isinstance(loss, Tensor) or loss.dim() != 0:
                shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
                raise ValueError(f"loss_fn must return a scalar (the inner loss), got {shape}")
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=outer_grad and not first_order)
            fast = {k: v - lrs[k] * g for (k, v), g in zip(fast.items(), grads, strict=True)}
            losses.append(loss.detach())
    if not outer_grad:
        fast = {k: v.detach() for k, v in fast.items()}
    return fast, torch.stack(losses)


def call_per_task(model: nn.Module, params: Params, *inputs: Tensor) -> Tensor:
    """``model`` with weights ``params[k][i]`` applied to ``inputs[...][i]``, for every task ``i`` at once.

    Raises:
        ValueError: the entries of ``params`` and the inputs disagree on the number of tasks.

    Shapes:
        params: each ``(n_tasks, *param_shape)``; inputs: each ``(n_tasks, *input_shape)`` ->
        ``(n_tasks, *output_shape)``.
    """
    sizes = {name: v.shape[0] if v.dim() else None for name, v in params.items()}
    sizes.update({f"inputs[{i}]": x.shape[0] if x.dim() else None for i, x in enumerate(inputs)})
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise ValueError(f"params and inputs must share a leading n_tasks dimension, got {sizes}")
    return vmap(lambda p, *x: functional_call(model, p, x))(params, *inputs)


def prefers_vmap(model: nn.Module) -> bool:
    """Whether batching tasks with ``vmap`` pays for ``model``: no convolution and no buffer.

    Measured with ``benchmarks/maml_step.py`` (torch 2.13, one CPU thread): for the sinusoid MLP
    vmap is about 6x faster than a loop over tasks, where per-task overhead dominates; for the
    Omniglot ConvNet4 it is about 3x slower and peaks at 4 GB instead of 0.5 GB.
    """
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())
    return not has_conv and next(model.buffers(), None) is None


def choose_path(path: str, model: nn.Module, tasks: Sequence[Task]) -> str:
    """``"loop"`` or ``"vmap"``: ``path`` itself unless ``"auto"``, which takes vmap when
    :func:`prefers_vmap` holds and every task has the same shapes (vmap needs them stacked)."""
    if path != "auto":
        return path
    same_shapes = all(a.shape == b.shape for t in tasks[1:] for a, b in zip(t, tasks[0], strict=True))
    return "vmap" if prefers_vmap(model) and same_shapes else "loop"
