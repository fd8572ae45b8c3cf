import pytest
import torch

from metalearn_lite.rl import baseline_features, linear_feature_baseline


def test_features_by_hand():
    states = torch.tensor([[[0.5, -20.0], [1.0, 2.0]]])  # (1, horizon=2, 2)
    phi = baseline_features(states)
    torch.testing.assert_close(phi[0, 0], torch.tensor([0.5, -10.0, 0.25, 100.0, 0.0, 0.0, 0.0, 1.0]))
    torch.testing.assert_close(phi[0, 1], torch.tensor([1.0, 2.0, 1.0, 4.0, 0.5, 0.25, 0.125, 1.0]))


def test_recovers_returns_that_are_linear_in_the_features_per_task():
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(3, 4, 6, 2, generator=generator, dtype=torch.float64)
    weights = torch.randn(3, 8, generator=generator, dtype=torch.float64)  # a different fit per task
    returns = torch.einsum("ntkf,nf->ntk", baseline_features(states), weights)
    mask = torch.ones_like(returns)
    torch.testing.assert_close(linear_feature_baseline(states, returns, mask, reg=1e-12), returns)


def test_masked_steps_do_not_enter_the_fit():
    generator = torch.Generator().manual_seed(1)
    states = torch.randn(2, 5, 10, 2, generator=generator, dtype=torch.float64)
    returns = torch.randn(2, 5, 10, generator=generator, dtype=torch.float64)
    mask = (torch.rand(2, 5, 10, generator=generator) > 0.3).double()
    garbage = returns + 1e3 * (1 - mask)
    a = linear_feature_baseline(states, returns, mask)
    b = linear_feature_baseline(states, garbage, mask)
    torch.testing.assert_close(a, b)
    assert (a[mask == 0] == 0).all()


@pytest.mark.parametrize(
    ("shapes", "message"),
    [(((2, 3, 2), (2, 3), (2, 3)), "states"), (((2, 3, 4, 2), (2, 3, 5), (2, 3, 5)), "returns")],
)
def test_bad_shapes_raise(shapes, message):
    with pytest.raises(ValueError, match=message):
        linear_feature_baseline(*(torch.zeros(s) for s in shapes))
