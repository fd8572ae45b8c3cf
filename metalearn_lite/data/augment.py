"""Random affine distortions of character images (Koch, Zemel & Salakhutdinov, 2015, §4.3).

Koch et al. enlarged Omniglot's background set with small random affine transforms: rotation
within ±10 degrees, shear within ±0.3, scaling by 0.8 to 1.2 and a translation of a few pixels.
A drawing distorted this way is still the same character, so the transform can be applied to every
support and query image of a training episode independently. The Omniglot benchmark
(``benchmarks/omniglot_fewshot.py``) measures what it adds; §4.2 (``notebooks/08_few_shot.ipynb``) quotes the result.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import checks
from ..tasks import Task

__all__ = ["augment_task", "random_affine"]


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def random_affine(
    images: Tensor,
    generator: torch.Generator | None = None,
    max_rotation: float = 10.0,
    max_shear: float = 0.3,
    scale: tuple[float, float] = (0.8, 1.2),
    max_shift: float = 0.04,
) -> Tensor:
    """Each image under its own random affine map (bilinear, zeros outside: ink = 1 on 0).

    Args:
        images: ``(n, channels, H, W)``.
        generator: the source of randomness (a CPU generator; the images may live anywhere).
        max_rotation: rotation angle bound in degrees.
        max_shear: bound of the horizontal and vertical shear factors.
        scale: range of the scale factor (the same for both axes).
        max_shift: translation bound as a fraction of the half-width (0.04 of a 105-pixel image is
            about 2 pixels, Koch et al.'s bound).

    Shapes:
        ``(n, channels, H, W)`` -> same.
    """
    checks.tensor("images", images, dim=4, floating=True)
    checks.generator("generator", generator)
    if not isinstance(scale, tuple | list) or len(scale) != 2:
        raise TypeError(f"scale must be a range (low, high), got {scale!r}")
    low = checks.number("scale", scale[0], 0.0, low_open=True)
    if checks.number("scale", scale[1]) < low:
        raise ValueError(f"scale must be a range (low, high) with 0 < low <= high, got {scale!r}")
    for name, value in (("max_rotation", max_rotation), ("max_shear", max_shear), ("max_shift", max_shift)):
        checks.number(name, value, 0.0)
    n = images.shape[0]
    angle = _uniform(n, -max_rotation, max_rotation, generator) * math.pi / 180
    shear_x, shear_y = (_uniform(n, -max_shear, max_shear, generator) for _ in range(2))
    factor = _uniform(n, scale[0], scale[1], generator)
    shift = _uniform(2 * n, -max_shift, max_shift, generator).view(n, 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([cos, -sin, sin, cos], dim=1).view(n, 2, 2)
    shear = torch.stack([torch.ones(n, dtype=torch.float64), shear_x, shear_y, torch.ones(n, dtype=torch.float64)],
                        dim=1).view(n, 2, 2)
    # affine_grid maps output coordinates to input coordinates: invert the forward transform
    forward = rotation @ shear * factor[:, None, None]
    inverse = torch.linalg.inv(forward)
    theta = torch.cat([inverse, -(inverse @ shift[:, :, None])], dim=2)  # (n, 2, 3)
    theta = theta.to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_task(task: Task, generator: torch.Generator | None = None, **kwargs: float) -> Task:
    """The task with every support and query image distorted by :func:`random_affine`."""
    return Task(
        random_affine(task.x_support, generator, **kwargs),
        task.y_support,
        random_affine(task.x_query, generator, **kwargs),
        task.y_query,
    )
