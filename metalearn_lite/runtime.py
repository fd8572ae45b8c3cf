"""Reproducibility and device: the two calls every chapter starts with.

The book's notebooks start with ``seed_everything(0)`` and ``default_device()`` so that a run on a
laptop CPU gives the numbers the text shows, and a Colab GPU is used when there is one. Introduced
in §1 (``notebooks/01_introduction.ipynb``).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import checks

__all__ = ["seed_everything", "default_device"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch, and return a fresh ``torch.Generator`` seeded the same.

    Library code never draws from global random state; it takes a ``generator`` argument. The
    returned generator is the one to pass around; the global seeds only tame third-party code
    (weight initialisation of ``nn.Module`` s, for instance).

    Args:
        seed: a non-negative integer.

    Returns:
        A CPU ``torch.Generator`` seeded with ``seed``.
    """
    checks.non_negative_int("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeding the legacy global state is the point)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return torch.Generator().manual_seed(seed)


def default_device() -> torch.device:
    """CUDA when a GPU is visible (a Colab GPU runtime, for instance), else the CPU.

    Set the environment variable ``METALEARN_DEVICE`` (``cpu``, ``cuda``, ``cuda:1`` ...) to
    override the choice.
    """
    wanted = os.environ.get("METALEARN_DEVICE")
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"METALEARN_DEVICE={wanted!r} but no CUDA device is available")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
