import math

import pytest
import torch

import metalearn_lite as mll
from metalearn_lite.data import EpisodeSampler
from metalearn_lite.evaluation import accuracy_ci


def test_accuracy_ci_matches_formula():
    values = [0.2, 0.4, 0.6, 0.8]
    result = accuracy_ci(values)
    std = math.sqrt(sum((v - 0.5) ** 2 for v in values) / 3)
    assert result.mean == pytest.approx(0.5)
    assert result.ci95 == pytest.approx(1.96 * std / 2)
    assert result.episodes == 4
    assert "50.0 ±" in str(result)


def test_evaluate_episodes_oracle_and_constant(generator):
    y = torch.arange(4).repeat_interleave(5)
    x = torch.randn(20, 3)
    episodes = EpisodeSampler(x, y, 4, 1, 2, generator=generator)
    assert mll.evaluate_episodes(lambda t: t.y_query, episodes, 10).mean == 1.0
    constant = mll.evaluate_episodes(lambda t: torch.zeros_like(t.y_query), episodes, 10)
    assert constant.mean == pytest.approx(0.25) and constant.ci95 == pytest.approx(0.0)


def test_errors(generator):
    with pytest.raises(ValueError, match="at least one"):
        accuracy_ci([])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        accuracy_ci([1.5])
    y = torch.arange(4).repeat_interleave(5)
    episodes = EpisodeSampler(torch.randn(20, 3), y, 4, 1, 2, generator=generator)
    with pytest.raises(ValueError, match="one label per query"):
        mll.evaluate_episodes(lambda t: t.y_query[:-1], episodes, 2)


def test_mean_ci_is_the_normal_interval():
    from metalearn_lite.evaluation import mean_ci

    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    result = mean_ci(values)
    assert result.mean == pytest.approx(2.5)
    assert result.ci95 == pytest.approx(1.96 * values.std().item() / 2)
    assert result.n == 4 and mean_ci([5.0]).ci95 == 0.0
    assert mean_ci(iter([1.0, 3.0])).mean == 2.0
    with pytest.raises(ValueError, match="at least one"):
        mean_ci([])
    with pytest.raises(ValueError, match="finite"):
        mean_ci([1.0, float("nan")])


def test_moving_average():
    from metalearn_lite.plotting import moving_average

    steps, means = moving_average([1, 2, 3, 4, 5], 2)
    assert steps == [2, 3, 4, 5] and means == [1.5, 2.5, 3.5, 4.5]
    assert moving_average([1, 2], 5) == ([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="width"):
        moving_average([1, 2], 0)
