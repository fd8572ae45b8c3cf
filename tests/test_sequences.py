import pytest
import torch

from metalearn_lite.data.sequences import (
    SequenceEpisodeSampler,
    presentation_index,
    with_previous_labels,
)
from metalearn_lite.memory.evaluation import per_instance_accuracy


@pytest.fixture
def toy():
    # 8 classes with labels 10..17, 12 examples each; x = (class, example id, 0)
    y = torch.arange(10, 18).repeat_interleave(12)
    x = torch.stack([y.float(), torch.arange(96).float(), torch.zeros(96)], dim=1)
    return x, y


def test_previous_labels_are_offset_by_one_step():
    x = torch.zeros(1, 4, 2)
    labels = torch.tensor([[2, 0, 2, 1]])
    inputs = with_previous_labels(x, labels, n_way=3)
    assert inputs.shape == (1, 4, 5)
    assert inputs[0, :, 2:].tolist() == [[0, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]


def test_presentation_index_counts_earlier_occurrences():
    labels = torch.tensor([[2, 0, 2, 1, 2, 0], [0, 0, 0, 1, 1, 1]])
    expected = [[1, 1, 2, 1, 3, 2], [1, 2, 3, 1, 2, 3]]
    assert presentation_index(labels).tolist() == expected
    loop = [[sum(1 for s in range(t + 1) if row[s] == row[t]) for t in range(len(row))] for row in labels.tolist()]
    assert loop == expected


def test_per_instance_accuracy_by_hand():
    labels = torch.tensor([[0, 1, 0, 1]])
    instance = presentation_index(labels)  # 1, 1, 2, 2
    logits = torch.nn.functional.one_hot(torch.tensor([[1, 1, 0, 1]]), 2).float()  # wrong, right, right, right
    assert per_instance_accuracy(logits, labels, instance, 2).tolist() == [0.5, 1.0]


def test_sampler_builds_valid_episodes(toy, generator):
    x, y = toy
    sampler = SequenceEpisodeSampler(x, y, n_way=5, n_instances=4, generator=generator)
    batch = sampler.sample(3)
    assert batch.inputs.shape == (3, 20, 3 + 5) and sampler.input_size == 8
    for b in range(3):
        labels = batch.labels[b]
        assert torch.bincount(labels, minlength=5).tolist() == [4] * 5
        classes = batch.inputs[b, :, 0]
        for c in range(5):  # one original class per episode label, and vice versa
            assert classes[labels == c].unique().numel() == 1
        assert classes.unique().numel() == 5
        assert batch.inputs[b, :, 1].unique().numel() == 20, "no example is shown twice"
        assert torch.equal(batch.inputs[b, 1:, 3:].argmax(-1), labels[:-1])
        assert torch.equal(batch.instance[b], presentation_index(labels.unsqueeze(0))[0])
    orders = {tuple(sampler.sample(1).labels[0].tolist()) for _ in range(10)}
    assert len(orders) == 10, "each episode has its own random order"


def test_labels_are_reassigned_in_every_episode(toy, generator):
    x, y = toy
    sampler = SequenceEpisodeSampler(x, y, n_way=5, n_instances=2, generator=generator)
    class_of_label_0 = set()
    for _ in range(30):
        batch = sampler.sample(1)
        class_of_label_0.add(batch.inputs[0, batch.labels[0] == 0, 0][0].item())
    assert len(class_of_label_0) > 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: with_previous_labels(torch.zeros(1, 3, 2), torch.tensor([[0, 5, 1]]), 5),
         r"labels must be in 0 \.\. n_way - 1 = 4"),
        (lambda: with_previous_labels(torch.zeros(1, 3, 2), torch.tensor([[0, -1, 1]]), 5), "labels must be in"),
        (lambda: with_previous_labels(torch.zeros(1, 3, 2), torch.zeros(1, 4, dtype=torch.long), 5), "labels"),
        (lambda: presentation_index(torch.zeros(3, dtype=torch.long)), r"labels must have shape \(B, T\)"),
    ],
)
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sampler_rejects_too_many_instances(toy):
    x, y = toy
    with pytest.raises(ValueError, match="exceeds the 12 examples"):
        SequenceEpisodeSampler(x, y, n_way=5, n_instances=13)
    with pytest.raises(ValueError, match="batch_size"):
        SequenceEpisodeSampler(x, y).sample(0)
