"""The synthetic rating world of chapter 5: shapes, determinism, the documented ground truth, errors."""

from __future__ import annotations

import pytest
import torch

from metalearn_lite.data import ratings


def world_and_users(seed: int = 0, n_users: int = 7, **kwargs):
    generator = torch.Generator().manual_seed(seed)
    world = ratings.make_world(generator, **kwargs)
    return world, ratings.sample_users(world, n_users, generator), generator


def test_shapes_of_world_users_and_tasks():
    world, users, generator = world_and_users(n_items=30, n_genres=5, n_groups=3)
    assert world.genres.shape == (30, 5) and world.quality.shape == (30,)
    assert world.group_taste.shape == (3, 5) and world.n_features == 3 + 5 + 1
    assert users.group.shape == (7,) and users.bias.shape == (7,) and users.taste.shape == (7, 5)
    tasks = ratings.user_tasks(world, users, k_shot=4, n_query=6, generator=generator)
    assert len(tasks) == 7
    for task in tasks:
        assert task.x_support.shape == (4, 9) and task.y_support.shape == (4, 1)
        assert task.x_query.shape == (6, 9) and task.y_query.shape == (6, 1)


def test_same_seed_same_data_and_another_seed_other_data():
    def draw(seed):
        world, users, generator = world_and_users(seed, n_items=50)
        return ratings.user_tasks(world, users, 3, 5, generator)

    first, again, other = draw(1), draw(1), draw(2)
    for a, b in zip(first, again, strict=True):
        assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(first[0].x_support, other[0].x_support)


def test_every_item_has_a_genre_and_genres_are_binary():
    world, _, _ = world_and_users(n_items=500, n_genres=6, genre_prob=0.05)
    assert set(world.genres.unique().tolist()) <= {0.0, 1.0}
    assert (world.genres.sum(1) >= 1).all()


def test_scores_follow_the_documented_formula_item_by_item():
    world, users, _ = world_and_users(n_items=12, n_genres=4, n_groups=2)
    s = ratings.scores(world, users)
    assert s.shape == (7, 12)
    for u in range(7):
        for j in range(12):
            genres_of_j = world.genres[j].nonzero().flatten()
            expected = world.mean_rating + users.bias[u] + world.quality[j] + users.taste[u, genres_of_j].mean()
            torch.testing.assert_close(s[u, j], expected)


def test_centred_scores_have_rank_at_most_n_genres():
    world, users, _ = world_and_users(n_users=60, n_items=80, n_genres=5)
    s = ratings.scores(world, users).double()
    centred = s - world.mean_rating - users.bias[:, None].double() - world.quality[None, :].double()
    rank = torch.linalg.matrix_rank  # scores are float32: singular values below 1e-5 of the largest are zero
    assert rank(centred, rtol=1e-5).item() <= 5
    assert rank(s, rtol=1e-5).item() > 5  # the biases add rank: the check above is not vacuous


def test_tastes_spread_around_their_group_with_the_documented_scales():
    world, users, _ = world_and_users(n_users=20_000, n_groups=4, n_genres=3, user_bias_std=0.7, taste_std=0.3)
    personal = users.taste - world.group_taste[users.group]
    assert abs(personal.std().item() - 0.3) < 0.01
    assert abs(users.bias.std().item() - 0.7) < 0.02
    counts = torch.bincount(users.group, minlength=4).float()
    assert (counts / counts.sum() - 0.25).abs().max() < 0.02


def test_without_personal_taste_users_of_a_group_share_its_taste():
    world, users, _ = world_and_users(n_users=50, taste_std=0.0)
    torch.testing.assert_close(users.taste, world.group_taste[users.group])


def test_noise_free_ratings_are_clipped_scores_and_default_ratings_are_stars():
    world, users, generator = world_and_users(n_items=40, noise_std=0.0, rounded=False)
    items, r = ratings.sample_ratings(world, users, 40, generator)
    assert torch.equal(items.sort(1).values, torch.arange(40).expand(7, -1)), "each user rates distinct items"
    torch.testing.assert_close(r, ratings.scores(world, users).gather(1, items).clamp(1, 5))
    world, users, generator = world_and_users(n_items=40)
    _, r = ratings.sample_ratings(world, users, 40, generator)
    assert set(r.unique().tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_rating_noise_has_the_documented_scale():
    world, users, generator = world_and_users(n_users=400, n_items=200, noise_std=0.4, rounded=False,
                                              mean_rating=3.0, user_bias_std=0.0, item_bias_std=0.0,
                                              group_taste_std=0.1, taste_std=0.0)
    items, r = ratings.sample_ratings(world, users, 200, generator)
    residual = r - ratings.scores(world, users).gather(1, items)  # scores near 3: clipping is rare
    assert abs(residual.std().item() - 0.4) < 0.01


def test_task_features_are_the_users_group_and_the_items_and_support_differs_from_query():
    world, users, generator = world_and_users(n_items=60, n_groups=3, n_genres=4)
    tasks = ratings.user_tasks(world, users, 5, 10, generator)
    catalogue = torch.cat([world.genres, world.quality[:, None]], dim=1)  # (n_items, n_genres + 1)
    for u, task in enumerate(tasks):
        x = torch.cat([task.x_support, task.x_query])
        assert torch.equal(x[:, :3], torch.nn.functional.one_hot(users.group[u], 3).float().expand(15, -1))
        matches = (x[:, 3:, None] == catalogue.T[None]).all(1)  # (15, n_items): row i is item j
        assert matches.sum(1).eq(1).all(), "every row is exactly one catalogue item"
        assert matches.float().argmax(1).unique().numel() == 15, "support and query items are distinct"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"generator": 0}, TypeError, "generator"),
        ({"n_items": 1}, ValueError, "n_items"),
        ({"n_genres": 0}, ValueError, "n_genres"),
        ({"n_groups": 2.5}, TypeError, "n_groups"),
        ({"genre_prob": 0.0}, ValueError, "genre_prob"),
        ({"noise_std": -0.1}, ValueError, "noise_std"),
        ({"taste_std": float("nan")}, ValueError, "taste_std"),
        ({"mean_rating": 6}, ValueError, "mean_rating"),
    ],
)
def test_make_world_rejects_bad_arguments(kwargs, error, name):
    kwargs = {"generator": torch.Generator().manual_seed(0), **kwargs}
    with pytest.raises(error, match=name):
        ratings.make_world(**kwargs)


def test_sampling_rejects_bad_arguments():
    world, users, generator = world_and_users(n_items=10)
    with pytest.raises(ValueError, match="n_users"):
        ratings.sample_users(world, 0, generator)
    with pytest.raises(TypeError, match="generator"):
        ratings.sample_users(world, 3, None)
    with pytest.raises(ValueError, match="k_shot"):
        ratings.user_tasks(world, users, 0, 3, generator)
    with pytest.raises(ValueError, match="n_query"):
        ratings.user_tasks(world, users, 3, -1, generator)
    with pytest.raises(ValueError, match=r"k_shot \+ n_query must be <= n_items \(10\)"):
        ratings.user_tasks(world, users, 6, 5, generator)
    with pytest.raises(ValueError, match="items must be"):
        ratings.features(world, users.group, torch.zeros(3, 2, dtype=torch.long))


def test_posterior_recovers_the_scores_from_many_nearly_noise_free_ratings():
    world, users, generator = world_and_users(n_users=5, n_items=60, n_genres=4, noise_std=1e-3, rounded=False,
                                              mean_rating=3.0, user_bias_std=0.2, item_bias_std=0.1,
                                              group_taste_std=0.3, taste_std=0.3)
    for task in ratings.user_tasks(world, users, 30, 30, generator):
        predicted = ratings.posterior_predict(world, task.x_support, task.y_support, task.x_query)
        # the query ratings are the true scores up to the 1e-3 noise (no clipping near 3)
        torch.testing.assert_close(predicted, task.y_query, atol=5e-3, rtol=0)


def test_posterior_without_personal_variation_is_the_group_prediction():
    world, users, generator = world_and_users(n_items=30, user_bias_std=0.0, taste_std=0.0)
    task = ratings.user_tasks(world, users, 5, 8, generator)[0]
    far_off = torch.full_like(task.y_support, 5.0)
    with_data = ratings.posterior_predict(world, task.x_support, far_off, task.x_query)
    x = task.x_query
    group = x[:, :world.n_groups].argmax(1)
    genres = x[:, world.n_groups:-1]
    prior = world.mean_rating + x[:, -1] + (world.group_taste[group] * genres / genres.sum(1, keepdim=True)).sum(1)
    torch.testing.assert_close(with_data, prior.clamp(1, 5)[:, None])


def test_posterior_shrinks_one_rating_less_than_many():
    world, users, generator = world_and_users(n_items=80, n_genres=3)
    task = ratings.user_tasks(world, users, 40, 10, generator)[0]
    high = torch.full((40, 1), 5.0)
    base = ratings.posterior_predict(world, task.x_support[:1], task.y_support[:1] * 0 + 3.0, task.x_query)
    one = ratings.posterior_predict(world, task.x_support[:1], high[:1], task.x_query)
    many = ratings.posterior_predict(world, task.x_support, high, task.x_query)
    assert (one >= base).all() and (many.mean() > one.mean()), "more evidence of a generous rater moves more"


def test_posterior_rejects_bad_shapes():
    world, users, generator = world_and_users(n_items=20)
    task = ratings.user_tasks(world, users, 3, 4, generator)[0]
    with pytest.raises(ValueError, match="x_query"):
        ratings.posterior_predict(world, task.x_support, task.y_support, task.x_query[:, :3])
    with pytest.raises(ValueError, match="y_support"):
        ratings.posterior_predict(world, task.x_support, task.y_support[:2], task.x_query)
    world, users, generator = world_and_users(n_items=20, noise_std=0.0, rounded=False)
    with pytest.raises(ValueError, match="noise"):
        ratings.posterior_predict(world, task.x_support, task.y_support, task.x_query)
