import pytest
import torch

from metalearn_lite.data.copy_task import copy_batch
from metalearn_lite.memory.evaluation import bit_errors


def test_copy_batch_layout(generator):
    inputs, targets = copy_batch(3, 4, n_bits=5, generator=generator)
    assert inputs.shape == (3, 9, 6) and targets.shape == (3, 4, 5)
    assert torch.equal(inputs[:, :4, :5], targets), "the first steps show the vectors to copy"
    assert torch.equal(inputs[:, 4], torch.tensor([0.0] * 5 + [1.0]).expand(3, 6)), "then the delimiter"
    assert inputs[:, 5:].abs().sum() == 0 and inputs[:, :4, 5].abs().sum() == 0
    assert set(targets.unique().tolist()) <= {0.0, 1.0}


def test_bit_errors_counts_wrong_bits_of_the_recall_phase():
    targets = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    logits = torch.full((1, 5, 2), -3.0)  # predicts all zeros
    logits[:, -2:] = (targets * 2 - 1) * 4  # perfect recall
    assert bit_errors(logits, targets).tolist() == [0.0]
    logits[0, -1, 0] = 5.0  # one wrong bit in the recall phase
    logits[0, 0, 1] = 5.0  # the input phase does not count
    assert bit_errors(logits, targets).tolist() == [1.0]


@pytest.mark.parametrize(("kwargs", "message"), [({"batch_size": 0, "length": 3}, "batch_size"),
                                                 ({"batch_size": 2, "length": 0}, "length")])
def test_copy_batch_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        copy_batch(**kwargs)


def test_bit_errors_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="targets"):
        bit_errors(torch.zeros(1, 5, 3), torch.zeros(1, 2, 2))
