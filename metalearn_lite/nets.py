"""The networks of the book: the sinusoid MLP and the Conv-4 backbone of the few-shot papers.

§3.3 (``notebooks/05_gradient_based.ipynb``) meta-trains :class:`MLP` on sinusoids; §3.1
(``notebooks/03_metric_learning.ipynb``) and §4.2 (``notebooks/08_few_shot.ipynb``) train
:class:`ConvEncoder` and :class:`ConvNet4` on Omniglot. All are plain ``nn.Module`` s whose
parameters can be swapped for a task's fast weights with ``torch.func.functional_call``.

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

from . import checks

__all__ = ["NORMS", "MLP", "ConvBlock", "ConvEncoder", "ConvNet4", "BatchStatNorm2d", "batch_stat_norm"]

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
        checks.positive_ints(in_features=in_features, out_features=out_features)
        for i, width in enumerate(hidden):
            checks.positive_int(f"hidden[{i}]", width)
        sizes = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


NORMS = ("batch", "running")


class ConvBlock(nn.Module):
    """conv 3×3 (padding 1) → normalisation → max-pool 2 → ReLU.

    The papers' block is conv → norm → ReLU → max-pool. Max-pooling and ReLU commute (ReLU is
    monotone), so pooling first computes the same values and the same gradients with the ReLU
    on a quarter of the activations. Activations are kept in channels-last memory order
    outside ``torch.func`` transforms: on a CPU the max-pool and batch-norm kernels are several
    times faster on it (measured in ``benchmarks/maml_step.py``; about 20 % of a MAML step).

    Args:
        norm: ``"batch"`` normalises every batch with its own statistics, in training and in
            evaluation (:class:`BatchStatNorm2d`; MAML's choice, *transductive* at test time: the
            queries of a task are normalised together); ``"running"`` is ``nn.BatchNorm2d``, whose
            evaluation mode uses running averages from training (each query judged alone; the
            metric learners' choice).
        ceil_mode: round an odd size up when pooling (7 -> 4) instead of down (7 -> 3).
        norm_impl: see :func:`batch_stat_norm` (``norm="batch"`` only).

    Shapes:
        ``(N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2)`` (``ceil`` with ``ceil_mode``).
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch", ceil_mode: bool = False,
                 norm_impl: str = "auto") -> None:
        super().__init__()
        checks.positive_ints(in_channels=in_channels, out_channels=out_channels)
        checks.one_of("norm", norm, NORMS)
        checks.one_of("norm_impl", norm_impl, _NORM_IMPLS)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = BatchStatNorm2d(out_channels, impl=norm_impl) if norm == "batch" else nn.BatchNorm2d(out_channels)
        self.ceil_mode = checks.boolean("ceil_mode", ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if not _under_functorch(x):
            x = x.contiguous(memory_format=torch.channels_last)  # a no-op after the first block
        return F.relu(F.max_pool2d(self.norm(x), 2, ceil_mode=self.ceil_mode))


class ConvEncoder(nn.Module):
    """The Conv-4 backbone of nearly every few-shot paper on Omniglot: conv blocks, then flatten.

    Vinyals et al. (2016) introduced it; Snell et al. (2017), Finn et al. (2017) and Nichol et al.
    (2018) reuse it: four :class:`ConvBlock` s of 64 channels, so a 28 × 28 image becomes a
    64-dimensional vector. The metric learners of :mod:`metalearn_lite.metric` embed with it and
    :class:`ConvNet4` puts a linear head on it.

    Args:
        in_channels: channels of the input images (1 for Omniglot).
        hidden_channels: channels of every block (64 in the papers; 32 trains faster on a CPU).
        num_blocks: number of blocks; each halves the spatial size.
        norm: ``"running"`` (``nn.BatchNorm2d``) or ``"batch"`` (batch statistics always); see
            :class:`ConvBlock`.
        ceil_mode: round odd sizes up when pooling. The papers round down, and a 28 x 28 image then
            shrinks 28 -> 14 -> 7 -> 3 -> 1: the last pooling keeps the top-left 2 x 2 of a 3 x 3
            map and drops the rest. Rounding up (28 -> 14 -> 7 -> 4 -> 2) keeps everything and
            gives a ``4 * hidden_channels`` embedding; §4.2 (``notebooks/08_few_shot.ipynb``) uses it.
        norm_impl: see :func:`batch_stat_norm`.

    Shapes:
        x: ``(n, in_channels, H, W)`` -> ``(n, hidden_channels * h * w)`` with ``h, w`` the pooled
        sizes (:meth:`output_dim`); ``(n, 1, 28, 28)`` -> ``(n, hidden_channels)`` with the defaults.
    """

    def __init__(self, in_channels: int = 1, hidden_channels: int = 64, num_blocks: int = 4, norm: str = "running",
                 ceil_mode: bool = False, norm_impl: str = "auto") -> None:
        super().__init__()
        checks.positive_ints(in_channels=in_channels, hidden_channels=hidden_channels, num_blocks=num_blocks)
        channels = [in_channels] + [hidden_channels] * num_blocks
        self.blocks = nn.Sequential(*(ConvBlock(a, b, norm, ceil_mode, norm_impl)
                                      for a, b in zip(channels[:-1], channels[1:], strict=True)))
        self.num_blocks, self.hidden_channels, self.ceil_mode, self.norm = num_blocks, hidden_channels, ceil_mode, norm
        # Channels-last weights make the convolutions pick the NHWC kernels: about 25 % faster
        # on a CPU (oneDNN) and on recent GPUs; the results are the same up to float rounding.
        self.to(memory_format=torch.channels_last)

    def output_dim(self, height: int, width: int | None = None) -> int:
        """Length of the embedding of a ``height x width`` image.

        Raises:
            ValueError: the image is too small for the blocks' poolings.
        """
        width = height if width is None else width
        checks.positive_ints(height=height, width=width)
        side_h, side_w = height, width
        for _ in range(self.num_blocks):
            side_h, side_w = (-(-side_h // 2), -(-side_w // 2)) if self.ceil_mode else (side_h // 2, side_w // 2)
        if side_h < 1 or side_w < 1:
            raise ValueError(f"a {height}x{width} image is too small for {self.num_blocks} pooling blocks")
        return self.hidden_channels * side_h * side_w

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"x must be (n, channels, H, W) images, got shape {tuple(x.shape)}")
        return self.blocks(x).flatten(1)


class ConvNet4(nn.Module):
    """:class:`ConvEncoder` then a linear head: the Omniglot classifier of the MAML paper.

    Finn et al. (2017, section 5.2, after Vinyals et al., 2016): 64 channels, 28×28 inputs,
    normalisation with the batch's own statistics (``norm="batch"``, also at test time, as their
    code does), so the last block leaves ``64 × 1 × 1`` features.

    Args:
        n_way: number of output classes.
        in_channels: image channels (1 for Omniglot).
        hidden_channels: channels of every conv layer (the paper: 64 for Omniglot).
        image_size: side of the square input (28 for Omniglot).
        norm: ``"batch"`` (transductive, the paper) or ``"running"``; see :class:`ConvBlock`.
        ceil_mode: see :class:`ConvEncoder`.
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
        norm: str = "batch",
        ceil_mode: bool = False,
        norm_impl: str = "auto",
    ) -> None:
        super().__init__()
        checks.positive_ints(n_way=n_way, image_size=image_size)
        self.features = ConvEncoder(in_channels, hidden_channels, 4, norm, ceil_mode, norm_impl)
        self.head = nn.Linear(self.features.output_dim(image_size), n_way)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
