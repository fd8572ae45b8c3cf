"""Problems for a learned optimizer to solve ("optimizees", Andrychowicz et al. 2016, section 3).

**Quadratics** (their section 3.1): each problem is ``f(θ) = ||W θ - y||²`` with ``W`` a ``dim × dim``
matrix and ``y`` a ``dim``-vector of standard normal entries; ``θ`` starts standard normal too.
A batch of ``P`` problems is one dict of parameters ``{"theta": (P, dim)}`` and a loss that returns
the ``(P,)`` losses, so a coordinatewise optimizer runs them all at once (the problems do not
interact: each coordinate's gradient depends only on its own problem).

**Small networks** (in the spirit of their section 3.2, which trains an MLP on MNIST; offline here, so
the data are the sinusoids of §1, ``notebooks/01_introduction.ipynb``): each problem fits a
one-hidden-layer MLP, ``hidden`` units and a sigmoid (theirs), to ``n_points`` samples of one random
sinusoid, by the mean squared error. A batch of ``P`` networks is again one dict of ``(P, ...)``
parameters and a ``(P,)`` loss.

§3.3 (``notebooks/05_gradient_based.ipynb``) meta-trains an LSTM optimizer on both.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .. import checks
from . import sinusoid

__all__ = ["Quadratics", "SineMLPs", "sample_quadratics", "sample_sine_mlps"]


class Quadratics:
    """A batch of quadratics ``f_i(θ_i) = ||W_i θ_i - y_i||²``; call it on ``{"theta": (P, dim)}``.

    Attributes:
        W: ``(P, dim, dim)``; y: ``(P, dim)``; theta0: ``(P, dim)`` the starting point.
    """

    def __init__(self, W: Tensor, y: Tensor, theta0: Tensor):
        self.W, self.y, self.theta0 = W, y, theta0

    def __call__(self, params: dict[str, Tensor]) -> Tensor:
        theta = params["theta"]  # (P, dim)
        residual = torch.einsum("pij,pj->pi", self.W, theta) - self.y  # (P, dim)
        return residual.pow(2).sum(-1)  # (P,)

    def minimum(self) -> Tensor:
        """The ``(P,)`` smallest losses (zero for an invertible ``W``), by least squares."""
        theta = torch.linalg.lstsq(self.W, self.y.unsqueeze(-1)).solution.squeeze(-1)
        return self({"theta": theta})

    def problem(self) -> tuple[Callable[[dict[str, Tensor]], Tensor], dict[str, Tensor]]:
        """``(loss_of_params, params)``, what :func:`~metalearn_lite.gradient.optimize` takes."""
        return self, {"theta": self.theta0.clone()}


def sample_quadratics(
    n_problems: int,
    dim: int = 10,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> Quadratics:
    """``n_problems`` random quadratics in ``dim`` dimensions (the paper's ``dim = 10``).

    Shapes:
        ``W`` ``(n_problems, dim, dim)``, ``y`` and ``theta0`` ``(n_problems, dim)``.
    """
    checks.positive_ints(n_problems=n_problems, dim=dim)
    checks.generator("generator", generator)
    W = torch.randn(n_problems, dim, dim, generator=generator, dtype=dtype)
    y = torch.randn(n_problems, dim, generator=generator, dtype=dtype)
    theta0 = torch.randn(n_problems, dim, generator=generator, dtype=dtype)
    return Quadratics(W, y, theta0)


class SineMLPs:
    """A batch of MLP regressions: network ``i`` fits ``y = A_i sin(x - φ_i)`` on its ``n_points`` inputs.

    Call it on ``{"w1": (P, hidden), "b1": (P, hidden), "w2": (P, hidden), "b2": (P,)}`` for the ``(P,)``
    mean squared errors. ``activation`` is ``"sigmoid"`` (the paper's) or ``"relu"``.

    Attributes:
        x, y: ``(P, n_points)``; params0: the starting parameters (PyTorch's default initialisation
        of ``nn.Linear``: uniform in ``± 1/sqrt(fan_in)``).
    """

    def __init__(self, x: Tensor, y: Tensor, params0: dict[str, Tensor], activation: str = "sigmoid"):
        self.x, self.y, self.params0 = x, y, params0
        self.activation = checks.one_of("activation", activation, ("sigmoid", "relu"))

    def __call__(self, params: dict[str, Tensor]) -> Tensor:
        pre = self.x.unsqueeze(-1) * params["w1"].unsqueeze(1) + params["b1"].unsqueeze(1)  # (P, n, hidden)
        hidden = torch.sigmoid(pre) if self.activation == "sigmoid" else torch.relu(pre)
        out = (hidden * params["w2"].unsqueeze(1)).sum(-1) + params["b2"].unsqueeze(1)  # (P, n)
        return (out - self.y).pow(2).mean(-1)  # (P,)

    def problem(self) -> tuple[Callable[[dict[str, Tensor]], Tensor], dict[str, Tensor]]:
        """``(loss_of_params, params)``, what :func:`~metalearn_lite.gradient.optimize` takes."""
        return self, {k: v.clone() for k, v in self.params0.items()}


def sample_sine_mlps(
    n_problems: int,
    n_points: int = 50,
    hidden: int = 20,
    activation: str = "sigmoid",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> SineMLPs:
    """``n_problems`` networks to fit, each to ``n_points`` points of its own sinusoid (the family of
    §1, ``notebooks/01_introduction.ipynb``).

    Shapes:
        ``x``, ``y`` ``(n_problems, n_points)``; parameters ``w1``, ``b1``, ``w2`` ``(n_problems, hidden)``,
        ``b2`` ``(n_problems,)``.
    """
    checks.positive_ints(n_problems=n_problems, n_points=n_points, hidden=hidden)
    checks.generator("generator", generator)
    amplitude, phase = sinusoid.sample_functions(n_problems, generator=generator, dtype=dtype)
    low, high = sinusoid.X_RANGE
    x = torch.rand(n_problems, n_points, generator=generator, dtype=dtype) * (high - low) + low
    y = amplitude.unsqueeze(-1) * torch.sin(x - phase.unsqueeze(-1))

    def uniform(*shape: int, fan_in: int) -> Tensor:
        return (torch.rand(*shape, generator=generator, dtype=dtype) * 2 - 1) / fan_in**0.5

    params0 = {"w1": uniform(n_problems, hidden, fan_in=1), "b1": uniform(n_problems, hidden, fan_in=1),
               "w2": uniform(n_problems, hidden, fan_in=hidden), "b2": uniform(n_problems, fan_in=hidden)}
    return SineMLPs(x, y, params0, activation)
