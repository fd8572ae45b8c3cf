import math

import pytest
import torch

from metalearn_lite.data import sinusoid


def test_ranges_and_shapes(generator):
    amplitude, phase = sinusoid.sample_functions(2000, generator)
    assert amplitude.min() >= 0.1 and amplitude.max() <= 5.0
    assert phase.min() >= 0 and phase.max() <= math.pi
    assert abs(amplitude.mean().item() - 2.55) < 0.1  # mean of U[0.1, 5]
    tasks = sinusoid.tasks_from_functions(amplitude[:3], phase[:3], k_shot=5, n_query=7, generator=generator)
    assert len(tasks) == 3
    assert tasks[0].x_support.shape == (5, 1) and tasks[0].y_query.shape == (7, 1)
    xs = torch.cat([t.x_support for t in tasks] + [t.x_query for t in tasks])
    assert xs.min() >= -5 and xs.max() <= 5


def test_targets_are_the_sine(generator):
    amplitude, phase = sinusoid.sample_functions(4, generator)
    tasks = sinusoid.tasks_from_functions(amplitude, phase, k_shot=10, generator=generator)
    for a, p, task in zip(amplitude, phase, tasks, strict=True):
        assert torch.allclose(task.y_support, a * torch.sin(task.x_support - p))
        assert torch.allclose(task.y_query, a * torch.sin(task.x_query - p))


def test_seeded_sampling_is_reproducible():
    a = sinusoid.sample_tasks(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    b = sinusoid.sample_tasks(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert all(torch.equal(x, y) for ta, tb in zip(a, b, strict=True) for x, y in zip(ta, tb, strict=True))
    assert a[0].x_support.dtype == torch.float64


def test_bad_arguments(generator):
    with pytest.raises(ValueError, match="n_tasks"):
        sinusoid.sample_functions(0, generator)
    with pytest.raises(ValueError, match="k_shot"):
        sinusoid.sample_tasks(2, 0, generator=generator)
    with pytest.raises(ValueError, match="amplitude and phase"):
        sinusoid.tasks_from_functions(torch.ones(3), torch.ones(2), 5)
