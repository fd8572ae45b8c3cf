"""Figures the chapters share: episodes of images, task functions, training curves.

Every function draws on an ``Axes`` or returns a new ``Figure``; none changes global style.
§1 (``notebooks/01_introduction.ipynb``) draws the first episode; every chapter plots its curves here.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import checks
from .tasks import Task

__all__ = ["moving_average", "plot_curves", "show_episode"]


def moving_average(values: Sequence[float], width: int) -> tuple[list[int], list[float]]:
    """Means of ``width`` consecutive values, and the (1-based) step each window ends at.

    Training curves are noisy step to step; their moving average shows the trend. With fewer than
    ``width`` values, each value is returned as it is.

    Returns:
        ``(steps, means)``: for a curve of ``n >= width`` values, ``n - width + 1`` of each.
    """
    checks.positive_int("width", width)
    data = torch.as_tensor(list(values), dtype=torch.float64)
    if data.dim() != 1:
        raise ValueError(f"values must be one sequence of numbers, got shape {tuple(data.shape)}")
    if len(data) < width:
        return list(range(1, len(data) + 1)), data.tolist()
    means = data.unfold(0, width, 1).mean(dim=1)
    return list(range(width, len(data) + 1)), means.tolist()


def show_episode(task: Task, n_way: int | None = None, max_query: int = 3, title: str | None = None) -> Figure:
    """Draw an image episode: one row per class, its support images then some query images.

    Args:
        task: an episode of images, ``x_*`` of shape ``(n, 1, H, W)`` with labels ``0 .. n_way - 1``.
        n_way: number of classes (default: inferred from ``y_support``).
        max_query: query images shown per class.
    """
    if task.x_support.dim() != 4:
        raise ValueError(f"task.x_support must be (n, C, H, W) images, got {tuple(task.x_support.shape)}")
    n_way = int(task.y_support.max()) + 1 if n_way is None else n_way
    k_shot = int((task.y_support == 0).sum())
    n_query = min(max_query, int((task.y_query == 0).sum()))
    cols = k_shot + n_query
    fig, axes = plt.subplots(n_way, cols, figsize=(1.1 * cols + 0.6, 1.1 * n_way + 0.5), squeeze=False)
    for c in range(n_way):
        shots = task.x_support[task.y_support == c][:k_shot]
        queries = task.x_query[task.y_query == c][:n_query]
        for j, image in enumerate(torch.cat([shots, queries])):
            ax = axes[c, j]
            ax.imshow(image[0].detach().cpu(), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= k_shot:
                for spine in ax.spines.values():
                    spine.set_edgecolor("tab:orange")
                    spine.set_linewidth(2)
        axes[c, 0].set_ylabel(f"class {c}", rotation=0, ha="right", va="center")
    axes[0, 0].set_title("support", loc="left")
    if n_query:
        axes[0, k_shot].set_title("query", loc="left", color="tab:orange")
    fig.suptitle(title or f"{n_way}-way {k_shot}-shot episode")
    fig.tight_layout()
    return fig


def plot_curves(
    ax: Axes,
    curves: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    x: Sequence[float] | None = None,
    logy: bool = False,
    smooth: int | None = None,
) -> Axes:
    """Plot named curves on ``ax`` with labelled axes and a legend.

    Args:
        x: the x value of every point (default: 0, 1, 2, ...; with ``smooth``, the training step
            each moving-average window ends at).
        logy: a logarithmic y axis.
        smooth: plot the :func:`moving_average` over this many values instead of the raw curve (the
            y label should say so).
    """
    checks.boolean("logy", logy)
    for name, values in curves.items():
        if smooth is not None:
            xs, ys = moving_average(values, smooth)
        else:
            xs, ys = (list(range(len(values))) if x is None else list(x)), list(values)
        ax.plot(xs, ys, label=name, marker="o" if len(ys) <= 12 else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
