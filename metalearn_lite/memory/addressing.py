"""Reading, writing and addressing an external memory, as pure functions.

The Neural Turing Machine (Graves, Wayne & Danihelka, 2014, section 3) turns a controller's
outputs into a *weighting* over the ``N`` rows of an ``N x M`` memory in four steps, each
differentiable:

1. content addressing: cosine similarity between a key and every row, sharpened by a key
   strength ``beta`` and normalised by a softmax (eqs. 5-6);
2. interpolation with the previous weighting through a gate ``g`` (eq. 7);
3. a circular convolution with a shift weighting ``s`` (eq. 8);
4. sharpening by an exponent ``gamma >= 1`` (eq. 9).

A read returns the weighted sum of the rows (eq. 2); a write first erases, then adds (eqs. 3-4).
The memory-augmented network of Santoro et al. (2016, section 3.1, "least recently used access")
replaces location addressing for writes by usage statistics: :func:`update_usage`,
:func:`least_used` and :func:`lru_write_weighting`.

Every function works on a batch of memories and on several heads at once. §3.2 (``notebooks/04_memory_augmented.ipynb``)
(``notebooks/04_memory_augmented.ipynb``) computes each step by hand on a 4-slot memory.

Shapes used throughout:
    memory ``(B, N, M)``: B memories of N slots of width M;
    key ``(B, H, M)``: one key per head (H heads);
    weights ``(B, H, N)``: one weighting per head, each row sums to 1;
    scalars per head (``beta``, ``gate``, ``gamma``, ``alpha``) ``(B, H)``;
    shift ``(B, H, S)`` with S odd: a distribution over the offsets ``-(S // 2) .. S // 2``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import checks

__all__ = [
    "address",
    "circular_shift",
    "content_weighting",
    "cosine_similarity",
    "interpolate",
    "least_used",
    "least_used_per_head",
    "lru_write_weighting",
    "read",
    "sharpen",
    "update_usage",
    "write",
]


def _check_memory(memory: Tensor) -> tuple[int, int, int]:
    if memory.dim() != 3:
        raise ValueError(f"memory must have shape (B, N, M), got {tuple(memory.shape)}")
    return tuple(memory.shape)


def _check_heads(name: str, tensor: Tensor, batch: int, width: int) -> None:
    """``tensor`` must be ``(batch, H, width)``."""
    if tensor.dim() != 3 or tensor.shape[0] != batch or tensor.shape[2] != width:
        raise ValueError(f"{name} must have shape (B={batch}, H, {width}), got {tuple(tensor.shape)}")


def _check_scalar(name: str, tensor: Tensor, like: Tensor) -> None:
    """``tensor`` must be one scalar per row of ``like``: shape ``like.shape[:-1]``."""
    if tuple(tensor.shape) != tuple(like.shape[:-1]):
        raise ValueError(
            f"{name} must have shape {tuple(like.shape[:-1])} (one value per head), got {tuple(tensor.shape)}"
        )


def cosine_similarity(memory: Tensor, key: Tensor, eps: float = 1e-8) -> Tensor:
    """Cosine similarity between each head's key and each memory row (Graves et al., 2014, eq. 6).

    ``K[u, v] = u . v / (||u|| ||v||)``; ``eps`` keeps an all-zero row or key at similarity 0.

    Shapes:
        memory ``(B, N, M)``, key ``(B, H, M)`` -> ``(B, H, N)``.
    """
    batch, _, width = _check_memory(memory)
    _check_heads("key", key, batch, width)
    dots = torch.einsum("bhm,bnm->bhn", key, memory)
    norms = key.norm(dim=-1).unsqueeze(-1) * memory.norm(dim=-1).unsqueeze(1)  # (B, H, N)
    return dots / (norms + eps)


def content_weighting(memory: Tensor, key: Tensor, beta: Tensor) -> Tensor:
    """Content-based weighting ``softmax_i(beta * K[key, memory_i])`` (eq. 5).

    A large key strength ``beta`` concentrates the weighting on the most similar row; ``beta = 0``
    spreads it uniformly.

    Shapes:
        memory ``(B, N, M)``, key ``(B, H, M)``, beta ``(B, H)`` (>= 0) -> ``(B, H, N)``.
    """
    similarity = cosine_similarity(memory, key)
    _check_scalar("beta", beta, similarity)
    return torch.softmax(beta.unsqueeze(-1) * similarity, dim=-1)


def interpolate(w_content: Tensor, w_prev: Tensor, gate: Tensor) -> Tensor:
    """``g * w_content + (1 - g) * w_prev`` (eq. 7): ``g = 0`` keeps the previous location.

    Shapes:
        w_content ``(..., N)``, w_prev ``(..., N)``, gate ``(...)`` in [0, 1] -> ``(..., N)``.
    """
    if w_content.shape != w_prev.shape:
        raise ValueError(f"w_prev must have the shape of w_content {tuple(w_content.shape)}, got {tuple(w_prev.shape)}")
    _check_scalar("gate", gate, w_content)
    g = gate.unsqueeze(-1)
    return g * w_content + (1 - g) * w_prev


def circular_shift(w: Tensor, shift: Tensor) -> Tensor:
    """Rotate a weighting by a distribution over offsets: circular convolution (eq. 8).

    ``w_out[i] = sum_j w[j] * s[(i - j) mod N]`` with the offsets ``-(S // 2) .. S // 2``. A
    one-hot ``shift`` on offset ``+1`` moves every weight one slot forward (slot ``N - 1`` wraps
    to slot 0); a spread-out ``shift`` blurs the weighting.

    Shapes:
        w ``(..., N)``, shift ``(..., S)`` with S odd and ``S <= N`` -> ``(..., N)``.
    """
    slots, width = w.shape[-1], shift.shape[-1]
    if width % 2 == 0 or width > slots:
        raise ValueError(f"shift must have an odd last dimension <= N={slots}, got {tuple(shift.shape)}")
    if shift.shape[:-1] != w.shape[:-1]:
        raise ValueError(f"shift must have shape {tuple(w.shape[:-1])} + (S,), got {tuple(shift.shape)}")
    offsets = range(-(width // 2), width // 2 + 1)
    rolled = torch.stack([torch.roll(w, o, dims=-1) for o in offsets], dim=-2)  # (..., S, N)
    return (shift.unsqueeze(-1) * rolled).sum(dim=-2)


def sharpen(w: Tensor, gamma: Tensor, eps: float = 1e-12) -> Tensor:
    """``w ** gamma`` renormalised (eq. 9); ``gamma = 1`` leaves ``w`` unchanged.

    Undoes the blur of a fractional shift: the larger ``gamma``, the closer to a one-hot weighting.

    Shapes:
        w ``(..., N)``, gamma ``(...)`` with every value >= 1 -> ``(..., N)``.

    Raises:
        ValueError: a value of ``gamma`` below 1.
    """
    _check_scalar("gamma", gamma, w)
    if bool((gamma < 1).any()):
        raise ValueError(f"gamma must be >= 1 everywhere, got a minimum of {gamma.min().item():.4g}")
    # Dividing by the largest weight first changes nothing mathematically but keeps the sum >= 1,
    # so a large gamma cannot underflow every term to 0 (0.5 ** 200 is 0 in float32).
    scale = w.detach().amax(dim=-1, keepdim=True).clamp_min(eps)
    powered = (w / scale).pow(gamma.unsqueeze(-1))
    return powered / powered.sum(dim=-1, keepdim=True).clamp_min(eps)


def address(
    memory: Tensor,
    w_prev: Tensor,
    key: Tensor,
    beta: Tensor,
    gate: Tensor,
    shift: Tensor,
    gamma: Tensor,
) -> Tensor:
    """The full NTM addressing pipeline: content, interpolation, shift, sharpening (eqs. 5-9).

    Shapes:
        memory ``(B, N, M)``; w_prev ``(B, H, N)``; key ``(B, H, M)``; beta, gate, gamma
        ``(B, H)``; shift ``(B, H, S)`` -> ``(B, H, N)``.
    """
    w_content = content_weighting(memory, key, beta)
    w_gated = interpolate(w_content, w_prev, gate)
    return sharpen(circular_shift(w_gated, shift), gamma)


def read(memory: Tensor, weights: Tensor) -> Tensor:
    """Read vectors ``r = sum_i w[i] * memory[i]`` (eq. 2), one per head.

    Shapes:
        memory ``(B, N, M)``, weights ``(B, H, N)`` -> ``(B, H, M)``.
    """
    batch, slots, _ = _check_memory(memory)
    _check_heads("weights", weights, batch, slots)
    return torch.einsum("bhn,bnm->bhm", weights, memory)


def write(memory: Tensor, weights: Tensor, add: Tensor, erase: Tensor | None = None) -> Tensor:
    """Erase, then add (eqs. 3-4): ``M' = M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T``.

    With several heads the erasures multiply and the additions sum, so the order of the heads
    does not matter (Graves et al., 2014, section 3.2). ``erase=None`` only adds, as MANN does.

    Shapes:
        memory ``(B, N, M)``, weights ``(B, H, N)``, add ``(B, H, M)``,
        erase ``(B, H, M)`` in [0, 1] or ``None`` -> ``(B, N, M)``.
    """
    batch, slots, width = _check_memory(memory)
    _check_heads("weights", weights, batch, slots)
    _check_heads("add", add, batch, width)
    if add.shape[1] != weights.shape[1]:
        raise ValueError(f"add has {add.shape[1]} heads but weights has {weights.shape[1]}")
    if erase is not None:
        _check_heads("erase", erase, batch, width)
        if erase.shape[1] != weights.shape[1]:
            raise ValueError(f"erase has {erase.shape[1]} heads but weights has {weights.shape[1]}")
        keep = 1 - weights.unsqueeze(-1) * erase.unsqueeze(2)  # (B, H, N, M)
        memory = memory * keep.prod(dim=1)
    return memory + torch.einsum("bhn,bhm->bnm", weights, add)


def update_usage(usage: Tensor, w_read: Tensor, w_write: Tensor, gamma: float = 0.95) -> Tensor:
    """Usage weights of MANN: ``w_u = gamma * w_u_prev + sum_h w_r_h + sum_h w_w_h``.

    A slot that is read or written becomes "used"; usage decays by ``gamma`` per step
    (Santoro et al., 2016, section 3.1; the paper uses ``gamma = 0.95``).

    Shapes:
        usage ``(B, N)``, w_read ``(B, H, N)``, w_write ``(B, H', N)`` -> ``(B, N)``.
    """
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if usage.dim() != 2:
        raise ValueError(f"usage must have shape (B, N), got {tuple(usage.shape)}")
    for name, w in (("w_read", w_read), ("w_write", w_write)):
        _check_heads(name, w, usage.shape[0], usage.shape[1])
    return gamma * usage + w_read.sum(dim=1) + w_write.sum(dim=1)


def least_used(usage: Tensor, n: int) -> Tensor:
    """Indicator of the ``n`` least used slots: ``w_lu[i] = 1`` if ``usage[i] <= m(usage, n)``.

    ``m(usage, n)`` is the ``n``-th smallest usage; with ties, exactly ``n`` slots are chosen
    (the lowest usages first, then the lowest indices), so the indicator always sums to ``n``.

    Shapes:
        usage ``(B, N)`` -> ``(B, N)`` of 0.0 and 1.0 (no gradient flows through it).
    """
    if usage.dim() != 2:
        raise ValueError(f"usage must have shape (B, N), got {tuple(usage.shape)}")
    if checks.positive_int("n", n) > usage.shape[1]:
        raise ValueError(f"n must be an int in 1 .. N={usage.shape[1]}, got {n!r}")
    order = torch.sort(usage.detach(), dim=1, stable=True).indices[:, :n]
    return torch.zeros_like(usage).scatter_(1, order, 1.0)


def lru_write_weighting(w_read_prev: Tensor, w_least_used_prev: Tensor, alpha: Tensor) -> Tensor:
    """MANN's write weighting ``sigmoid(alpha) * w_r_prev + (1 - sigmoid(alpha)) * w_lu_prev``.

    A learned gate per head chooses between rewriting the slot read at the previous step (to
    update a memory) and a slot that has not been used recently (to store something new).

    ``w_least_used_prev`` is either the paper's indicator of the ``n`` least used slots, shape
    ``(B, N)``, shared by all heads and normalised here by ``n`` so each weighting sums to 1; or
    one least-used weighting per head, shape ``(B, H, N)`` (e.g. head ``h`` gets the ``h``-th least
    used slot, :func:`least_used_per_head`), which keeps the heads from writing on top of each other.

    Shapes:
        w_read_prev ``(B, H, N)``, w_least_used_prev ``(B, N)`` or ``(B, H, N)``, alpha ``(B, H)``
        (logits) -> ``(B, H, N)``.
    """
    if w_read_prev.dim() != 3:
        raise ValueError(f"w_read_prev must have shape (B, H, N), got {tuple(w_read_prev.shape)}")
    batch, heads, slots = w_read_prev.shape
    if w_least_used_prev.shape == (batch, slots):
        least = w_least_used_prev / w_least_used_prev.sum(dim=-1, keepdim=True).clamp(min=1)
        least = least.unsqueeze(1)
    elif w_least_used_prev.shape == (batch, heads, slots):
        least = w_least_used_prev
    else:
        raise ValueError(
            f"w_least_used_prev must have shape (B={batch}, N={slots}) or (B, H={heads}, N), "
            f"got {tuple(w_least_used_prev.shape)}"
        )
    _check_scalar("alpha", alpha, w_read_prev)
    mix = torch.sigmoid(alpha).unsqueeze(-1)
    return mix * w_read_prev + (1 - mix) * least


def least_used_per_head(usage: Tensor, heads: int) -> Tensor:
    """One-hot weightings of the ``heads`` least used slots, one per head (the least used first).

    Their sum over heads is :func:`least_used` ``(usage, heads)``.

    Shapes:
        usage ``(B, N)`` -> ``(B, heads, N)`` (no gradient flows through it).
    """
    if usage.dim() != 2:
        raise ValueError(f"usage must have shape (B, N), got {tuple(usage.shape)}")
    if checks.positive_int("heads", heads) > usage.shape[1]:
        raise ValueError(f"heads must be an int in 1 .. N={usage.shape[1]}, got {heads!r}")
    order = torch.sort(usage.detach(), dim=1, stable=True).indices[:, :heads]  # (B, heads)
    return torch.zeros(*order.shape, usage.shape[1], dtype=usage.dtype, device=usage.device).scatter_(
        2, order.unsqueeze(-1), 1.0
    )
