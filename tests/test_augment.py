import pytest
import torch

import metalearn_lite as mll
from metalearn_lite.data.augment import augment_task, random_affine


@pytest.fixture
def square():
    images = torch.zeros(3, 1, 28, 28)
    images[:, :, 12:16, 12:16] = 1.0  # a 4 x 4 blob in the centre
    return images


def test_identity_when_all_bounds_are_zero(square, generator):
    out = random_affine(square, generator, max_rotation=0, max_shear=0, scale=(1, 1), max_shift=0)
    assert torch.allclose(out, square, atol=1e-6)


def test_scaling_enlarges_the_content(square, generator):
    out = random_affine(square, generator, max_rotation=0, max_shear=0, scale=(2, 2), max_shift=0)
    assert torch.allclose(out.sum(dim=(1, 2, 3)), 4 * square.sum(dim=(1, 2, 3)), rtol=0.05)


def test_distortions_differ_per_image_and_are_seeded(square):
    a = random_affine(square, torch.Generator().manual_seed(3))
    b = random_affine(square, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1]), "each image gets its own transform"
    assert a.shape == square.shape and a.min() >= 0 and a.max() <= 1


def test_augment_task_keeps_labels(square, generator):
    task = mll.Task(square, torch.tensor([0, 1, 2]), square[:2], torch.tensor([1, 2]))
    out = augment_task(task, generator, max_rotation=5.0)
    assert torch.equal(out.y_support, task.y_support) and torch.equal(out.y_query, task.y_query)
    assert out.x_query.shape == (2, 1, 28, 28)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"scale": (1.2, 0.8)}, "scale"), ({"max_rotation": -1.0}, "max_rotation"), ({"max_shift": -0.1}, "max_shift")],
)
def test_bad_arguments(square, kwargs, message):
    with pytest.raises(ValueError, match=message):
        random_affine(square, **kwargs)
    with pytest.raises(ValueError, match="images must have 4 dimensions"):
        random_affine(square[0])
