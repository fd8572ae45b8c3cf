"""Synthetic users, items and 1-5 star ratings for cold-start recommendation (§5 (``notebooks/10_applications.ipynb``)).

MeLU (Lee et al., 2019) treats every user of a recommender as a task: the few items a new user has
rated are the support set, the items to predict are the query set, and MAML learns an initialisation
of the rating predictor that a few gradient steps personalise. This module writes a small world with
the same structure, generated from a ``torch.Generator``, so that §5
(``notebooks/10_applications.ipynb``) runs offline and the right answer is known.

The ground truth, exactly as the functions below compute it:

* **Items.** Item ``j`` belongs to a non-empty set of genres ``g_j ∈ {0, 1}^n_genres`` (each genre
  with probability ``genre_prob``, one drawn uniformly when none was) and has a quality
  ``q_j ~ N(0, item_bias_std²)``. Both are observed features.
* **Users.** User ``u`` is in a demographic group ``c_u`` (uniform over ``n_groups``; observed, like
  MeLU's age or occupation), has a rating bias ``b_u ~ N(0, user_bias_std²)`` and a taste for each
  genre ``t_u = T[c_u] + taste_std · ε_u`` with ``ε_u ~ N(0, I)``, around the group's taste
  ``T[c] ~ N(0, group_taste_std² I)``. The bias and the personal part of the taste are hidden.
* **Scores.** ``s_uj = mean_rating + b_u + q_j + t_u · g_j / |g_j|``: a user likes an item as
  much as they like its genres on average, plus the two biases. Around the biases, the matrix of
  scores has rank at most ``n_genres``.
* **Ratings.** ``r_uj = clip(round(s_uj + noise_std · η_uj), 1, 5)`` with ``η ~ N(0, 1)``
  (``rounded=False`` skips the rounding; the clipping to ``[1, 5]`` always applies).

A model that sees only the features can learn ``T[c_u]``, ``q_j`` and the genre structure, but not
``b_u`` and ``taste_std · ε_u``: those have to come from the user's own ratings, which is where
per-user adaptation pays. :func:`posterior_predict` is the yardstick: it knows the hidden
constants of the world and computes the Bayesian posterior mean of a user's ratings from their
support set, the best a learner can do under squared error (up to rounding and clipping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .. import checks
from ..tasks import Task

__all__ = ["RATING_RANGE", "RatingWorld", "Users", "make_world", "sample_users", "scores",
           "sample_ratings", "features", "user_tasks", "posterior_predict"]

RATING_RANGE = (1.0, 5.0)


@dataclass(frozen=True)
class RatingWorld:
    """The catalogue of items, the groups' tastes and the constants of the rating model.

    Shapes:
        genres: ``(n_items, n_genres)``, 0/1 floats, every row non-empty;
        quality: ``(n_items,)``; group_taste: ``(n_groups, n_genres)``.
    """

    genres: Tensor
    quality: Tensor
    group_taste: Tensor
    mean_rating: float
    user_bias_std: float
    taste_std: float
    noise_std: float
    rounded: bool

    @property
    def n_items(self) -> int:
        return self.genres.shape[0]

    @property
    def n_genres(self) -> int:
        return self.genres.shape[1]

    @property
    def n_groups(self) -> int:
        return self.group_taste.shape[0]

    @property
    def n_features(self) -> int:
        """Length of one row of :func:`features`: group one-hot, genres, quality."""
        return self.n_groups + self.n_genres + 1


class Users(NamedTuple):
    """Users drawn by :func:`sample_users`.

    Shapes:
        group: ``(n_users,)`` int64 in ``[0, n_groups)``; bias: ``(n_users,)``;
        taste: ``(n_users, n_genres)``.
    """

    group: Tensor
    bias: Tensor
    taste: Tensor


def make_world(generator: torch.Generator, n_items: int = 400, n_genres: int = 8, n_groups: int = 6,
               genre_prob: float = 0.25, mean_rating: float = 3.5, item_bias_std: float = 0.5,
               group_taste_std: float = 1.0, user_bias_std: float = 0.6, taste_std: float = 1.2,
               noise_std: float = 0.5, rounded: bool = True) -> RatingWorld:
    """Draw a catalogue and the groups' tastes (see the module docstring for the model).

    Raises:
        TypeError: ``generator`` is not a ``torch.Generator``.
        ValueError: a count below 1 (``n_items`` below 2), ``genre_prob`` outside ``(0, 1]``, a
            negative or non-finite standard deviation, or ``mean_rating`` outside ``[1, 5]``.
    """
    checks.generator("generator", generator, optional=False)
    n_items = checks.int_at_least("n_items", n_items, 2)
    n_genres = checks.positive_int("n_genres", n_genres)
    n_groups = checks.positive_int("n_groups", n_groups)
    checks.number("genre_prob", genre_prob, 0.0, 1.0, low_open=True)
    checks.number("mean_rating", mean_rating, *RATING_RANGE)
    checks.boolean("rounded", rounded)
    stds = {name: checks.number(name, value, 0.0) for name, value in (
        ("item_bias_std", item_bias_std), ("group_taste_std", group_taste_std),
        ("user_bias_std", user_bias_std), ("taste_std", taste_std), ("noise_std", noise_std))}

    genres = (torch.rand(n_items, n_genres, generator=generator) < genre_prob).float()  # (n_items, n_genres)
    fallback = torch.randint(n_genres, (n_items,), generator=generator)
    empty = genres.sum(1) == 0
    genres[empty, fallback[empty]] = 1.0
    quality = stds["item_bias_std"] * torch.randn(n_items, generator=generator)
    group_taste = stds["group_taste_std"] * torch.randn(n_groups, n_genres, generator=generator)
    return RatingWorld(genres, quality, group_taste, float(mean_rating), stds["user_bias_std"],
                       stds["taste_std"], stds["noise_std"], bool(rounded))


def sample_users(world: RatingWorld, n_users: int, generator: torch.Generator) -> Users:
    """Draw ``n_users`` users: a uniform group, a rating bias and a personal taste around the group's."""
    checks.generator("generator", generator, optional=False)
    n_users = checks.positive_int("n_users", n_users)
    group = torch.randint(world.n_groups, (n_users,), generator=generator)
    bias = world.user_bias_std * torch.randn(n_users, generator=generator)
    taste = world.group_taste[group] + world.taste_std * torch.randn(n_users, world.n_genres, generator=generator)
    return Users(group, bias, taste)


def scores(world: RatingWorld, users: Users) -> Tensor:
    """Noise-free scores ``s_uj`` of every user for every item, before rounding and clipping.

    Shapes:
        ``(n_users, n_items)``.
    """
    item_profile = world.genres / world.genres.sum(1, keepdim=True)  # (n_items, n_genres), rows sum to 1
    return world.mean_rating + users.bias[:, None] + world.quality[None, :] + users.taste @ item_profile.T


def sample_ratings(
    world: RatingWorld, users: Users, n_per_user: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Each user rates ``n_per_user`` distinct items chosen uniformly at random.

    Returns:
        ``(items, ratings)``: item indices, int64, and the ratings ``r_uj``, both ``(n_users, n_per_user)``.
    """
    checks.generator("generator", generator, optional=False)
    n_per_user = checks.positive_int("n_per_user", n_per_user)
    if n_per_user > world.n_items:
        raise ValueError(f"n_per_user must be <= n_items ({world.n_items}), got {n_per_user}")
    n_users = users.group.shape[0]
    items = torch.rand(n_users, world.n_items, generator=generator).argsort(dim=1)[:, :n_per_user]
    noisy = scores(world, users).gather(1, items) + world.noise_std * torch.randn(
        n_users, n_per_user, generator=generator)
    if world.rounded:
        noisy = noisy.round()
    return items, noisy.clamp(*RATING_RANGE)


def features(world: RatingWorld, group: Tensor, items: Tensor) -> Tensor:
    """What a recommender observes about (user, item) pairs: group one-hot, genres, quality.

    Shapes:
        group: ``(n_users,)``; items: ``(n_users, n)`` -> ``(n_users, n, n_features)``.
    """
    if items.dim() != 2 or group.shape != items.shape[:1]:
        raise ValueError(f"items must be (n_users, n) with n_users = len(group) = {group.shape[0]}, "
                         f"got shape {tuple(items.shape)}")
    one_hot = torch.nn.functional.one_hot(group, world.n_groups).float()  # (n_users, n_groups)
    user_part = one_hot[:, None, :].expand(-1, items.shape[1], -1)
    item_part = torch.cat([world.genres, world.quality[:, None]], dim=1)[items]  # (n_users, n, n_genres + 1)
    return torch.cat([user_part, item_part], dim=2)


def user_tasks(
    world: RatingWorld, users: Users, k_shot: int, n_query: int, generator: torch.Generator
) -> list[Task]:
    """One task per user: ``k_shot`` known ratings to adapt on and ``n_query`` others to predict.

    The support and query items of a user are distinct. Each row of ``x`` is :func:`features` of
    (user, item); ``y`` is the rating.

    Returns:
        ``n_users`` tasks with ``x_support`` ``(k_shot, n_features)``, ``y_support``
        ``(k_shot, 1)``, ``x_query`` ``(n_query, n_features)`` and ``y_query`` ``(n_query, 1)``.
    """
    k_shot = checks.positive_int("k_shot", k_shot)
    n_query = checks.positive_int("n_query", n_query)
    if k_shot + n_query > world.n_items:
        raise ValueError(f"k_shot + n_query must be <= n_items ({world.n_items}), got {k_shot + n_query}")
    items, ratings = sample_ratings(world, users, k_shot + n_query, generator)
    x = features(world, users.group, items)  # (n_users, k_shot + n_query, n_features)
    y = ratings[..., None]
    return [Task(x[u, :k_shot], y[u, :k_shot], x[u, k_shot:], y[u, k_shot:])
            for u in range(x.shape[0])]


def posterior_predict(world: RatingWorld, x_support: Tensor, y_support: Tensor, x_query: Tensor) -> Tensor:
    """The Bayes-optimal rating prediction for one user, knowing the world's hidden constants.

    Treats the ratings as ``s_uj`` plus Gaussian noise of variance ``noise_std² + 1/12`` (the
    variance of rounding, when ``rounded``) and ignores the clipping; under that approximation the
    posterior of the user's hidden part ``z = (b_u, taste_std · ε_u)`` given the support ratings is
    Gaussian, and its mean gives the query predictions (clipped to ``[1, 5]``). It is the ridge
    regression of the residual ratings on ``(1, g_j / |g_j|)`` with the prior's variances as the
    ridge: no learner that sees only the support set can beat it on average by more than the
    approximation allows.

    Shapes:
        x_support: ``(k_shot, n_features)`` rows of :func:`features`; y_support: ``(k_shot, 1)``;
        x_query: ``(n_query, n_features)`` -> ``(n_query, 1)``.
    """
    for name, x in (("x_support", x_support), ("x_query", x_query)):
        if x.dim() != 2 or x.shape[1] != world.n_features:
            raise ValueError(f"{name} must be (n, {world.n_features}) rows of features(), got {tuple(x.shape)}")
    if y_support.shape != (x_support.shape[0], 1):
        raise ValueError(f"y_support must be ({x_support.shape[0]}, 1), got {tuple(y_support.shape)}")
    n_groups, n_genres = world.n_groups, world.n_genres
    group_taste = world.group_taste.double()

    def prior_and_design(x: Tensor) -> tuple[Tensor, Tensor]:
        x = x.double()
        group = x[:, :n_groups].argmax(1)
        genres = x[:, n_groups:n_groups + n_genres]
        profile = genres / genres.sum(1, keepdim=True)  # (n, n_genres)
        prior = world.mean_rating + x[:, -1] + (group_taste[group] * profile).sum(1)  # (n,)
        return prior, torch.cat([torch.ones(len(x), 1, dtype=torch.float64), profile], dim=1)  # (n, 1 + n_genres)

    prior_s, design_s = prior_and_design(x_support)
    prior_q, design_q = prior_and_design(x_query)
    noise_var = world.noise_std**2 + (1 / 12 if world.rounded else 0.0)
    prior_var = torch.tensor([world.user_bias_std**2] + [world.taste_std**2] * n_genres, dtype=torch.float64)
    if noise_var == 0:
        raise ValueError("posterior_predict needs rating noise: noise_std > 0 or rounded=True")
    # posterior precision and mean of z, computed as (D^T D + noise_var Σ^-1) z = D^T r, with Σ^-1 = 0 where Σ is 0
    precision = design_s.T @ design_s + torch.diag(noise_var / prior_var.clamp_min(1e-12))
    z = torch.linalg.solve(precision, design_s.T @ (y_support[:, 0].double() - prior_s))
    return (prior_q + design_q @ z).clamp(*RATING_RANGE)[:, None].to(x_query.dtype)
