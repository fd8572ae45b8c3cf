"""A Gaussian policy: an MLP gives the mean action, a learned vector gives the log standard deviation.

This is the policy of MAML's reinforcement-learning experiments (Finn et al. 2017, §5.3 and
appendix A.2): two hidden layers of 100 ReLU units, a linear output for the mean, and a log-std
that does not depend on the state, initialised to 0 (standard deviation 1 in the normalised
action units of :mod:`metalearn_lite.rl.navigation`).

The module's output *packs* the mean and the log-std along the last dimension, ``(..., 2 *
action_dim)``. Then the whole action distribution is a function of the parameter dict alone, which
is what ``torch.func.functional_call`` and a MAML ``loss_fn(output, targets)`` need: adapting the
parameters adapts the exploration noise too. :func:`gaussian_log_prob` and
:func:`sample_actions` unpack it.

Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .. import checks
from ..gradient.fast_weights import call_per_task
from ..nets import MLP

__all__ = ["GaussianMLPPolicy", "apply_policy", "gaussian_log_prob", "sample_actions", "split_output"]


def split_output(output: Tensor) -> tuple[Tensor, Tensor]:
    """``(mean, log_std)`` from a packed policy output.

    Shapes:
        output: ``(..., 2 * action_dim)`` → mean, log_std: ``(..., action_dim)``
    """
    if output.shape[-1] % 2:
        raise ValueError(f"a packed policy output has an even last dimension, got shape {tuple(output.shape)}")
    mean, log_std = output.chunk(2, dim=-1)
    return mean, log_std


def gaussian_log_prob(output: Tensor, actions: Tensor) -> Tensor:
    """Log-density of ``actions`` under the diagonal Gaussian packed in ``output``.

    Shapes:
        output: ``(..., 2 * action_dim)``; actions: ``(..., action_dim)`` → ``(...)``
    """
    mean, log_std = split_output(output)
    if mean.shape != actions.shape:
        raise ValueError(f"actions must have shape {tuple(mean.shape)} to match the policy output, "
                         f"got {tuple(actions.shape)}")
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)


def sample_actions(output: Tensor, generator: torch.Generator) -> Tensor:
    """Draw one action per row of ``output`` (no gradient flows: REINFORCE does not need one).

    Shapes:
        output: ``(..., 2 * action_dim)`` → ``(..., action_dim)``
    """
    mean, log_std = split_output(output.detach())
    noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + torch.exp(log_std) * noise


class GaussianMLPPolicy(nn.Module):
    """``π_θ(a | s) = N(a; μ_θ(s), diag(exp(2 log σ)))`` with an MLP mean and a free log-std.

    Args:
        state_dim: size of the observation (2 for navigation).
        action_dim: size of the action (2 for navigation).
        hidden_sizes: hidden layer widths, ReLU between them ((100, 100) in the paper).
        init_std: initial standard deviation (1.0, rllab's default that the paper's code used).

    Shapes:
        forward: ``(..., state_dim)`` → ``(..., 2 * action_dim)`` = mean and log-std packed.
    """

    def __init__(self, state_dim: int = 2, action_dim: int = 2, hidden_sizes: Sequence[int] = (100, 100),
                 init_std: float = 1.0) -> None:
        super().__init__()
        checks.positive_ints(state_dim=state_dim, action_dim=action_dim)
        for i, width in enumerate(hidden_sizes):
            checks.positive_int(f"hidden_sizes[{i}]", width)
        checks.positive_number("init_std", init_std)
        self.state_dim, self.action_dim = state_dim, action_dim
        self.mean = MLP(state_dim, tuple(hidden_sizes), action_dim)
        for layer in self.mean.modules():
            if isinstance(layer, nn.Linear):  # Xavier-uniform weights and zero biases, as in rllab
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
        self.log_std = nn.Parameter(torch.full((action_dim,), math.log(init_std)))

    def forward(self, states: Tensor) -> Tensor:
        if states.shape[-1] != self.state_dim:
            raise ValueError(f"states must end in state_dim={self.state_dim}, got shape {tuple(states.shape)}")
        mean = self.mean(states)
        return torch.cat([mean, self.log_std.expand_as(mean)], dim=-1)


def apply_policy(policy: nn.Module, states: Tensor, params: dict[str, Tensor] | None = None,
                 per_task: bool = False) -> Tensor:
    """The policy's packed output with the parameters ``params`` (the policy's own by default).

    With ``per_task=True`` every tensor of ``params`` carries a leading ``n_tasks`` dimension
    (the fast weights of MAML, one set per task) and task ``i``'s states go through task ``i``'s
    parameters, with ``torch.func.vmap`` over ``torch.func.functional_call``.

    Shapes:
        states: ``(n_tasks, ..., state_dim)`` → ``(n_tasks, ..., 2 * action_dim)``
        params: each ``(*shape)``, or ``(n_tasks, *shape)`` when ``per_task``
    """
    checks.boolean("per_task", per_task)
    if params is None:
        if per_task:
            raise ValueError("per_task=True needs a params dict with a leading n_tasks dimension")
        return policy(states)
    own = {name for name, _ in policy.named_parameters()}
    if not isinstance(params, dict) or set(params) != own:
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must have exactly the policy's parameter names {sorted(own)}, got {got}")
    if not per_task:
        return torch.func.functional_call(policy, params, (states,))
    return call_per_task(policy, params, states)
