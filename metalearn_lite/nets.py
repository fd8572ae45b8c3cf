"""The two networks of the MAML paper (Finn et al., 2017): a sinusoid MLP and the Omniglot ConvNet4.

Chapter 3.3 meta-trains :class:`MLP` on sinusoids and chapter 4.2 meta-trains :class:`ConvNet4` on
Omniglot. Both are plain ``nn.Module`` s whose parameters can be swapped for a task's fast weights
with ``torch.func.functional_call`` (see :class:`metalearn_lite.MAML`).

Why :func:`batch_stat_norm` exists
    MAML's conv net normalises every batch with that batch's own mean and variance (no running
    statistics, support and query alike; the paper's reference code does the same). The native
    ``F.batch_norm(training=True)`` computes exactly that, and it is the fastest choice in a
    per-task loop. But under ``torch.func.vmap`` (torch 2.13 and 2.14, CPU, measured in this
    project) its *second-order* gradient is wrong by about 1e-2 even in float64, while its forward
    and first-order gradient are right. MAML's meta-gradient is a second-order gradient, so the
    batched (vmap) path would silently train on a wrong gradient. The same normalisation written
    with primitive ops (mean, subtract, square, mean, rsqrt, multiply, add) differentiates exactly
    under vmap, but costs about 40 % more per task than the native kernel in a loop. So
    ``impl="auto"`` uses the native kernel on plain tensors and the primitive version whenever the
    input is wrapped by a ``torch.func`` transform (vmap, grad); the test suite checks both against
    each other, values and second-order gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .utils import check_positive_ints

__all__ = ["MLP", "ConvNet4", "ConvBlock", "BatchStatNorm2d", "batch_stat_norm"]

_NORM_IMPLS = ("auto", "native", "primitive")


def _under_functorch(x: Tensor) -> bool:
    # No public API tells whether a tensor is inside vmap/grad; this private check is stable
    # since torch 2.0 and only selects between two implementations of the same function.
    return bool(torch._C._functorch.is_functorch_wrapped_tensor(x))


def batch_stat_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5, impl: str = "auto") -> Tensor:
    """Batch normalisation with the batch's own statistics (no running averages), then an affine map.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with ``mean`` and the biased ``var`` taken
    over the batch and spatial dimensions of each channel.

    Args:
        x: activations.
        weight, bias: per-channel scale and shift.
        eps: added to the variance (PyTorch's and TensorFlow's default 1e-5 / 1e-3; we use 1e-5).
        impl: ``"native"`` (``F.batch_norm``), ``"primitive"`` (elementary ops, exact second-order
            gradients under ``vmap``) or ``"auto"`` (primitive under ``torch.func`` transforms, native
            otherwise; see the module docstring).

    Shapes:
        x: ``(N, C, H, W)``; weight, bias: ``(C,)`` -> ``(N, C, H, W)``.
    """
    if impl not in _NORM_IMPLS:
        raise ValueError(f"impl must be one of {_NORM_IMPLS}, got {impl!r}")
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    if impl == "native" or (impl == "auto" and not _under_functorch(x)):
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # (1, C, 1, 1)
    centred = x - mean
    var = centred.square().mean(dim=(0, 2, 3), keepdim=True)  # biased, like batch norm
    return centred * torch.rsqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


class BatchStatNorm2d(nn.Module):
    """:func:`batch_stat_norm` with learnable per-channel ``weight`` (ones) and ``bias`` (zeros).

    Unlike ``nn.BatchNorm2d`` it keeps no running statistics and behaves the same in ``train()`` and
    ``eval()`` mode: every batch is normalised with its own statistics, as in MAML.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, impl: str = "auto") -> None:
        super().__init__()
        if impl not in _NORM_IMPLS:
            raise ValueError(f"impl must be one of {_NORM_IMPLS}, got {impl!r}")
        self.eps, self.impl = eps, impl
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        return batch_stat_norm(x, self.weight, self.bias, self.eps, self.impl)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, eps={self.eps}, impl={self.impl!r}"


class MLP(nn.Module):
    """A fully connected ReLU network; the default 1-40-40-1 is the MAML paper's sinusoid regressor.

    Args:
        in_features, out_features: input and output sizes.
        hidden: sizes of the hidden layers (the paper: two layers of 40).

    Shapes:
        ``(*, in_features) -> (*, out_features)``.
    """

    def __init__(self, in_features: int = 1, hidden: tuple[int, ...] = (40, 40), out_features: int = 1) -> None:
        super().__init__()
        sizes = [in_features, *hidden, out_features]
        if any(not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"layer sizes must be positive ints, got {sizes}")
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class ConvBlock(nn.Module):
    """conv 3×3 (padding 1) → batch-statistics norm → max-pool 2 → ReLU.

    The paper's block is conv → norm → ReLU → max-pool. Max-pooling and ReLU commute (ReLU is
    monotone), so pooling first computes the same values and the same gradients with the ReLU
    on a quarter of the activations. Activations are kept in channels-last memory order
    outside ``torch.func`` transforms: on a CPU the max-pool and batch-norm kernels are several
    times faster on it (measured in ``benchmarks/maml_step.py``; about 20 % of a MAML step).

    Shapes:
        ``(N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2)``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_impl: str = "auto") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = BatchStatNorm2d(out_channels, impl=norm_impl)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if not _under_functorch(x):
            x = x.contiguous(memory_format=torch.channels_last)  # a no-op after the first block
        return F.relu(F.max_pool2d(self.norm(x), 2))


class ConvNet4(nn.Module):
    """Four :class:`ConvBlock` s (conv 3×3, batch-statistics norm, max-pool 2, ReLU), then a linear head.

    The Omniglot network of the MAML paper (section 5.2, after Vinyals et al., 2016): 64 channels,
    28×28 inputs, so the last block leaves ``64 × 1 × 1`` features.

    Args:
        n_way: number of output classes.
        in_channels: image channels (1 for Omniglot).
        hidden_channels: channels of every conv layer (the paper: 64 for Omniglot).
        image_size: side of the square input (28 for Omniglot).
        norm_impl: see :func:`batch_stat_norm`.

    Shapes:
        ``(N, in_channels, image_size, image_size) -> (N, n_way)``.
    """

    def __init__(
        self,
        n_way: int = 5,
        in_channels: int = 1,
        hidden_channels: int = 64,
        image_size: int = 28,
        norm_impl: str = "auto",
    ) -> None:
        super().__init__()
        check_positive_ints(n_way=n_way, in_channels=in_channels, hidden_channels=hidden_channels)
        if not isinstance(image_size, int) or image_size < 16:
            raise ValueError(f"image_size must be an int >= 16 (four 2x poolings), got {image_size!r}")
        channels = [in_channels] + [hidden_channels] * 4
        blocks = [ConvBlock(a, b, norm_impl) for a, b in zip(channels[:-1], channels[1:], strict=True)]
        self.features = nn.Sequential(*blocks)
        side = image_size
        for _ in range(4):
            side //= 2
        self.head = nn.Linear(hidden_channels * side * side, n_way)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).flatten(1))
