import pytest
import torch

from metalearn_lite.data import EpisodeSampler, sample_episode


@pytest.fixture
def toy():
    # 10 classes with labels 100..109, 6 examples each; x encodes (class, example index).
    y = torch.arange(100, 110).repeat_interleave(6)
    x = torch.stack([y.float(), torch.arange(60).float()], dim=1)
    return x, y


@pytest.mark.parametrize(("n_way", "k_shot", "n_query"), [(5, 1, 3), (3, 2, 4), (10, 5, 1)])
def test_episode_structure(toy, generator, n_way, k_shot, n_query):
    x, y = toy
    task = sample_episode(x, y, n_way, k_shot, n_query, generator)
    assert task.x_support.shape == (n_way * k_shot, 2) and task.x_query.shape == (n_way * n_query, 2)
    assert torch.equal(task.y_support, torch.arange(n_way).repeat_interleave(k_shot))
    assert torch.equal(task.y_query, torch.arange(n_way).repeat_interleave(n_query))
    # labels remapped consistently: every episode label maps to exactly one original class
    for label in range(n_way):
        originals = torch.cat([task.x_support[task.y_support == label, 0], task.x_query[task.y_query == label, 0]])
        assert originals.unique().numel() == 1
    originals = torch.cat([task.x_support[:, 0], task.x_query[:, 0]]).unique()
    assert originals.numel() == n_way
    # support and query never share an example
    assert not set(task.x_support[:, 1].tolist()) & set(task.x_query[:, 1].tolist())


def test_labels_are_shuffled_across_episodes(toy, generator):
    x, y = toy
    firsts = {sample_episode(x, y, 5, 1, 1, generator).x_support[0, 0].item() for _ in range(30)}
    assert len(firsts) > 3, "label 0 should map to different classes in different episodes"


def test_classes_are_balanced_over_many_episodes(toy, generator):
    x, y = toy
    counts = torch.zeros(10)
    for task in EpisodeSampler(x, y, 5, 1, 1, num_episodes=2000, generator=generator):
        counts[task.x_support[:, 0].long() - 100] += 1
    assert (counts / 2000 - 0.5).abs().max() < 0.05  # each class is in half the 5-of-10 episodes


def test_determinism_under_seed(toy):
    x, y = toy
    a = list(EpisodeSampler(x, y, 4, 2, 2, num_episodes=3, generator=torch.Generator().manual_seed(7)))
    b = list(EpisodeSampler(x, y, 4, 2, 2, num_episodes=3, generator=torch.Generator().manual_seed(7)))
    assert all(torch.equal(u, v) for ta, tb in zip(a, b, strict=True) for u, v in zip(ta, tb, strict=True))
    assert len(EpisodeSampler(x, y, 4, 2, 2, num_episodes=3)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_way": 11, "k_shot": 1, "n_query": 1}, "n_way=11 exceeds the 10 classes"),
        ({"n_way": 5, "k_shot": 4, "n_query": 3}, "k_shot \\+ n_query = 7 exceeds the 6 examples"),
        ({"n_way": 0, "k_shot": 1, "n_query": 1}, "n_way must be"),
        ({"n_way": 5, "k_shot": 0, "n_query": 1}, "k_shot must be"),
        ({"n_way": 5, "k_shot": 1, "n_query": -1}, "n_query must be"),
    ],
)
def test_bad_arguments(toy, kwargs, message):
    x, y = toy
    with pytest.raises(ValueError, match=message):
        sample_episode(x, y, **kwargs)


def test_bad_data(toy):
    x, y = toy
    with pytest.raises(ValueError, match="as many rows"):
        sample_episode(x[:-1], y, 2, 1, 1)
    with pytest.raises(TypeError, match="integer tensor"):
        sample_episode(x, y.float(), 2, 1, 1)
    with pytest.raises(TypeError, match="infinite"):
        len(EpisodeSampler(x, y, 2, 1, 1))
