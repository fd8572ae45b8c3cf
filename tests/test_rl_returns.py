import pytest
import torch

from metalearn_lite.rl import discounted_returns


def test_returns_to_go_by_hand():
    rewards = torch.tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(discounted_returns(rewards, discount=0.5), torch.tensor([[1 + 1 + 0.75, 2 + 1.5, 3.0]]))
    torch.testing.assert_close(discounted_returns(rewards, discount=1.0), torch.tensor([[6.0, 5.0, 3.0]]))


def test_mask_ends_the_episode():
    rewards = torch.tensor([[1.0, 2.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    torch.testing.assert_close(discounted_returns(rewards, mask, discount=0.9), torch.tensor([[2.8, 2.0, 0.0, 0.0]]))


def test_batched_over_leading_dims():
    rewards = torch.randn(2, 3, 5)
    out = discounted_returns(rewards, discount=0.9)
    torch.testing.assert_close(out[1, 2], discounted_returns(rewards[1, 2][None], discount=0.9)[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"discount": 1.5}, "discount"), ({"mask": torch.ones(2)}, "mask")],
)
def test_bad_input_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        discounted_returns(torch.ones(1, 3), **kwargs)
