"""A learned optimizer: an LSTM that reads each weight's gradient and writes its update.

MAML and Reptile learn where plain gradient descent *starts*; Meta-SGD learns its step sizes. The
article's sentence "learn a more effective gradient-descent strategy" describes the next rung:
learning the whole update rule. Andrychowicz et al. (2016), "Learning to learn by gradient descent by
gradient descent", replace ``θ ← θ - α ∇f(θ)`` by

    (g_t, h_{t+1}) = m(∇f(θ_t), h_t; φ),     θ_{t+1} = θ_t + g_t,

where ``m`` is a small two-layer LSTM (20 hidden units per layer) applied to every coordinate of ``θ``
separately, with shared weights ``φ`` and a hidden state per coordinate, so that one optimizer serves
any number of parameters. Its input is the gradient preprocessed as in their appendix A (log of the
magnitude and sign, ``p = 10``) and its output is scaled by 0.1. It is meta-trained by unrolling the
optimisation of sampled problems and differentiating the sum of the losses along the way,
``L(φ) = Σ_t f(θ_t)``, through the unrolled updates, truncated every ``unroll`` steps; as in the paper
the gradients fed to the LSTM are treated as inputs (no second derivatives of ``f``).

:func:`optimize` runs the LSTM on a loss of parameters; :func:`meta_train_optimizer` trains it;
``hand_designed`` runs SGD and Adam the same way, tuned fairly, for comparison.
Taught in §3.3 (``notebooks/05_gradient_based.ipynb``), which compares it with SGD and Adam on held-out
quadratics, past the horizon it was trained on, and on a small network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .. import checks
from .fast_weights import Params

__all__ = ["LSTMOptimizer", "Trajectory", "meta_train_optimizer", "optimize", "preprocess_gradients"]

State = list[tuple[Tensor, Tensor]]
Problem = tuple[Callable[[Params], Tensor], Params]


def preprocess_gradients(grad: Tensor, p: float = 10.0) -> Tensor:
    """Andrychowicz et al. (2016), appendix A: each gradient as ``(log|g| / p, sign g)``, or ``(-1, e^p g)`` when tiny.

    Gradients span many orders of magnitude; the log keeps the LSTM's inputs of order one while the
    second channel keeps the sign (and, below ``e^-p``, the value itself).

    Shapes:
        ``grad`` ``(N,)`` -> ``(N, 2)``.
    """
    checks.tensor("grad", grad, dim=1, floating=True)
    checks.positive_number("p", p)
    big = grad.abs() >= math.exp(-p)
    log = torch.where(big, grad.abs().clamp_min(torch.finfo(grad.dtype).tiny).log() / p, -torch.ones_like(grad))
    sign = torch.where(big, grad.sign(), math.exp(p) * grad)
    return torch.stack([log, sign], dim=-1)


class LSTMOptimizer(nn.Module):
    """The coordinatewise LSTM optimizer of Andrychowicz et al. (2016), section 2.1.

    Args:
        hidden_size: units per LSTM layer (the paper's 20).
        num_layers: stacked LSTM layers (the paper's 2).
        p: the preprocessing constant of :func:`preprocess_gradients` (the paper's 10).
        output_scale: the update is this times the output layer (the paper's 0.1).

    Shapes:
        ``forward(grad (N,), state)`` -> ``(update (N,), state)``, the state a list of
        ``num_layers`` pairs ``(h, c)`` of shape ``(N, hidden_size)``, one row per coordinate.
    """

    def __init__(self, hidden_size: int = 20, num_layers: int = 2, p: float = 10.0, output_scale: float = 0.1):
        super().__init__()
        checks.positive_ints(hidden_size=hidden_size, num_layers=num_layers)
        self.p = checks.positive_number("p", p)
        self.output_scale = checks.positive_number("output_scale", output_scale)
        sizes = [2] + [hidden_size] * num_layers
        self.cells = nn.ModuleList(nn.LSTMCell(i, hidden_size) for i in sizes[:-1])
        self.output = nn.Linear(hidden_size, 1)

    def initial_state(self, n_coords: int, like: Tensor) -> State:
        """Zeros for every coordinate, on ``like``'s device and in its dtype."""
        checks.positive_int("n_coords", n_coords)
        size = self.output.in_features
        return [(like.new_zeros(n_coords, size), like.new_zeros(n_coords, size)) for _ in self.cells]

    def forward(self, grad: Tensor, state: State) -> tuple[Tensor, State]:
        x, new_state = preprocess_gradients(grad, self.p), []
        for cell, (h, c) in zip(self.cells, state, strict=True):
            h, c = cell(x, (h, c))
            new_state.append((h, c))
            x = h
        return self.output_scale * self.output(x).squeeze(-1), new_state


@dataclass
class Trajectory:
    """What :func:`optimize` returns.

    Attributes:
        params: the parameters after the last step.
        losses: ``(steps + 1, *loss_shape)`` the loss at the start and after every step (``loss_shape``
            is what the loss of parameters returns: ``()`` for one problem, ``(P,)`` for a batch).
        state: the optimizer's hidden state after the last step (pass it on to continue).
    """

    params: Params
    losses: Tensor
    state: State | None


def _flat(tensors: Params | tuple[Tensor, ...]) -> Tensor:
    return torch.cat([t.reshape(-1) for t in (tensors.values() if isinstance(tensors, dict) else tensors)])


def _unflat(flat: Tensor, like: Params) -> Params:
    out, start = {}, 0
    for name, value in like.items():
        out[name] = flat[start:start + value.numel()].view_as(value)
        start += value.numel()
    return out


def optimize(
    update_rule: LSTMOptimizer,
    loss_of_params: Callable[[Params], Tensor],
    params: Params,
    steps: int,
    *,
    state: State | None = None,
    keep_graph: bool = False,
) -> Trajectory:
    """Run ``steps`` updates ``θ ← θ + m(∇f(θ))`` of a learned optimizer from ``params``.

    Args:
        update_rule: the learned optimizer ``m``.
        loss_of_params: ``f``; may return one loss per problem of a batch (they are summed for the gradient).
        params: the starting point ``θ_0`` (a dict of tensors; every entry is optimised).
        steps: number of updates.
        state: the optimizer's hidden state to continue from (``None``: zeros).
        keep_graph: keep the graph from ``update_rule``'s weights to the losses, for meta-training;
            otherwise the trajectory is computed without it and detached.

    Returns:
        the :class:`Trajectory` (parameters, losses at ``θ_0 .. θ_steps``, final state).

    Raises:
        NonFiniteLossError: a loss along the way is NaN or infinite.
    """
    checks.module("update_rule", update_rule)
    checks.callable_("loss_of_params", loss_of_params)
    steps = checks.non_negative_int("steps", steps)
    if not isinstance(params, dict) or not params or not all(isinstance(v, Tensor) for v in params.values()):
        raise TypeError(f"params must be a non-empty dict of tensors, got {type(params).__name__}")
    names = list(params)
    theta = _flat(params).detach() if not keep_graph else _flat(params)
    if state is None:
        state = update_rule.initial_state(theta.numel(), theta)
    losses = []
    with torch.set_grad_enabled(True):
        for step in range(steps + 1):
            if not theta.requires_grad:
                theta = theta.detach().requires_grad_()
            current = _unflat(theta, dict(zip(names, params.values(), strict=True)))
            loss = loss_of_params(current)
            checks.finite_loss(loss, f"the loss being optimised at step {step}")
            losses.append(loss if keep_graph else loss.detach())
            if step == steps:
                break
            (grad,) = torch.autograd.grad(loss.sum(), theta, retain_graph=keep_graph)
            with torch.set_grad_enabled(keep_graph):
                update, state = update_rule(grad, state)
            theta = theta + update if keep_graph else (theta + update).detach()
    final = _unflat(theta if keep_graph else theta.detach(), dict(zip(names, params.values(), strict=True)))
    if not keep_graph:
        state = [(h.detach(), c.detach()) for h, c in state]
    return Trajectory(final, torch.stack(losses), state)


def meta_train_optimizer(
    update_rule: LSTMOptimizer,
    sample_problem: Callable[[], Problem],
    iterations: int,
    *,
    horizon: int = 100,
    unroll: int = 20,
    outer_lr: float = 1e-3,
    objective: str = "loss",
    progress: bool = True,
    desc: str = "meta-training the optimizer",
) -> dict[str, list[float]]:
    """Meta-train ``update_rule`` with Adam on truncated unrolls (Andrychowicz et al. 2016, section 2).

    Each iteration samples a problem ``(loss_of_params, params)``, optimises it for ``horizon`` steps in
    segments of ``unroll``, and after each segment takes one Adam step on the segment's mean loss
    ``mean_t f(θ_t)`` (``objective="loss"``, the paper's Σ_t f(θ_t) up to a constant) or mean log-loss
    (``"log"``, which weighs problems of different scales alike), then carries ``θ`` and the hidden
    state on, detached.

    Args:
        update_rule: the learned optimizer; its weights are trained in place.
        sample_problem: returns a fresh problem: a loss of parameters and the starting parameters.
        iterations: problems to train on.
        horizon, unroll: steps per problem, and steps per truncated segment (the paper's 100 and 20).
        outer_lr: Adam's step size on the optimizer's weights.

    Returns:
        ``{"loss": [...]}``: the mean meta-objective of every iteration.

    Raises:
        NonFiniteLossError: a segment's objective is NaN or infinite (checked before Adam's step).
    """
    checks.module("update_rule", update_rule)
    checks.callable_("sample_problem", sample_problem)
    iterations = checks.positive_int("iterations", iterations)
    checks.positive_ints(horizon=horizon, unroll=unroll)
    if horizon % unroll:
        raise ValueError(f"horizon must be a multiple of unroll, got horizon={horizon}, unroll={unroll}")
    checks.positive_number("outer_lr", outer_lr)
    checks.one_of("objective", objective, ("loss", "log"))
    from tqdm.auto import tqdm  # late, so that importing the learners loads no progress bars

    from ..training import optimizer_step

    adam = torch.optim.Adam(update_rule.parameters(), lr=outer_lr)
    history: dict[str, list[float]] = {"loss": []}
    bar = tqdm(range(1, iterations + 1), desc=desc, disable=not progress, mininterval=1.0)
    for it in bar:
        loss_of_params, params = sample_problem()
        state, total = None, 0.0
        for segment in range(horizon // unroll):
            run = optimize(update_rule, loss_of_params, params, unroll, state=state, keep_graph=True)
            losses = run.losses[1:]
            meta = (losses.clamp_min(1e-30).log() if objective == "log" else losses).mean()
            total += optimizer_step(adam, meta, f"the meta-objective of iteration {it}, segment {segment}").item()
            params = {k: v.detach() for k, v in run.params.items()}
            state = [(h.detach(), c.detach()) for h, c in run.state]
        history["loss"].append(total / (horizon // unroll))
        if it % 10 == 0 or it == iterations:
            bar.set_postfix(loss=f"{sum(history['loss'][-10:]) / len(history['loss'][-10:]):.3g}")
    return history
