import pytest
import torch
from torch import nn

import metalearn_lite as mll
from metalearn_lite.data import EpisodeSampler
from metalearn_lite.metric import (
    MatchingNetwork,
    NearestNeighbour,
    PrototypicalNetwork,
    SiameseNetwork,
    check_support,
    matching_log_probs,
    nearest_neighbour_logits,
    prototypes,
    prototypical_logits,
    train_metric_learner,
    verification_loss,
)
from metalearn_lite.nets import ConvEncoder


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second thread only adds synchronisation cost (a lot on a busy machine)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def episode(generator):
    # 3-way 2-shot, 4 queries, 5-dimensional inputs
    y_support = torch.tensor([0, 0, 1, 1, 2, 2])
    return mll.Task(
        torch.randn(6, 5, generator=generator, dtype=torch.float64),
        y_support,
        torch.randn(4, 5, generator=generator, dtype=torch.float64),
        torch.tensor([0, 1, 2, 1]),
    )


# --- prototypical networks -------------------------------------------------------------------


def test_protonet_with_identity_encoder_by_hand(episode):
    model = PrototypicalNetwork(nn.Identity())
    means = torch.stack([episode.x_support[2 * c : 2 * c + 2].mean(0) for c in range(3)])
    assert torch.allclose(prototypes(episode.x_support, episode.y_support, 3), means)
    logits = model(episode.x_support, episode.y_support, episode.x_query)
    expected = torch.tensor(
        [[-sum((q[d] - m[d]) ** 2 for d in range(5)) for m in means.tolist()] for q in episode.x_query.tolist()],
        dtype=torch.float64,
    )
    assert logits.shape == (4, 3)
    assert torch.allclose(logits, expected)
    assert torch.equal(model.predict(episode), expected.argmax(1))


def test_protonet_support_order_does_not_matter(episode, generator):
    perm = torch.randperm(6, generator=generator)
    a = prototypical_logits(episode.x_support, episode.y_support, episode.x_query)
    b = prototypical_logits(episode.x_support[perm], episode.y_support[perm], episode.x_query)
    assert torch.allclose(a, b)


def test_protonet_gradcheck(episode):
    z_support = episode.x_support.clone().requires_grad_(True)
    z_query = episode.x_query.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s, q: prototypical_logits(s, episode.y_support, q), (z_support, z_query))


# --- matching networks ---------------------------------------------------------------------


def test_matching_equals_attention_over_labels(episode):
    log_probs = matching_log_probs(episode.x_support, episode.y_support, episode.x_query)
    cosine = torch.tensor(
        [[float(torch.cosine_similarity(q, s, dim=0)) for s in episode.x_support] for q in episode.x_query],
        dtype=torch.float64,
    )
    attention = torch.softmax(cosine, dim=1)
    expected = attention @ torch.nn.functional.one_hot(episode.y_support, 3).double()
    assert torch.allclose(log_probs.exp(), expected)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(4, dtype=torch.float64))


def test_matching_gradcheck(episode):
    z_support = episode.x_support.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: matching_log_probs(s, episode.y_support, episode.x_query), (z_support,))


def test_matching_fce_shapes_and_gradients(episode):
    model = MatchingNetwork(nn.Identity(), fce=True, embedding_dim=5).double()
    log_probs = model(episode.x_support, episode.y_support, episode.x_query)
    assert log_probs.shape == (4, 3)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(4, dtype=torch.float64))
    model.loss(episode).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with pytest.raises(ValueError, match="embedding_dim"):
        MatchingNetwork(nn.Identity(), fce=True)


def test_matching_scale_multiplies_the_cosines_and_can_be_learned(episode):
    cosine = torch.nn.functional.normalize(episode.x_query, dim=1) @ torch.nn.functional.normalize(
        episode.x_support, dim=1).T
    expected = torch.softmax(4.0 * cosine, dim=1) @ torch.nn.functional.one_hot(episode.y_support, 3).double()
    assert torch.allclose(matching_log_probs(episode.x_support, episode.y_support, episode.x_query, 4.0).exp(),
                          expected)
    z_support = episode.x_support.clone().requires_grad_(True)
    scale = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s, c: matching_log_probs(s, episode.y_support, episode.x_query, c),
                                    (z_support, scale))
    fixed = MatchingNetwork(nn.Identity()).double()  # the paper's rule: no parameter, scale 1
    assert list(fixed.parameters()) == [] and fixed.scale.item() == 1.0
    assert torch.allclose(fixed(episode.x_support, episode.y_support, episode.x_query),
                          matching_log_probs(episode.x_support, episode.y_support, episode.x_query))
    learned = MatchingNetwork(nn.Identity(), scale=10.0, learn_scale=True).double()
    assert torch.isclose(learned.scale, torch.tensor(10.0, dtype=torch.float64))
    learned.loss(episode).backward()
    assert learned.log_scale.grad is not None and learned.log_scale.grad.abs() > 0
    assert "log_scale" in learned.state_dict() and "log_scale" not in fixed.state_dict()


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), "2"])
def test_matching_refuses_a_scale_that_is_not_a_positive_number(episode, scale):
    with pytest.raises((ValueError, TypeError), match="scale"):
        MatchingNetwork(nn.Identity(), scale=scale)
    with pytest.raises((ValueError, TypeError), match="scale"):
        matching_log_probs(episode.x_support, episode.y_support, episode.x_query, scale)
    with pytest.raises(ValueError, match="scale must be a number or a 0-d tensor"):
        matching_log_probs(episode.x_support, episode.y_support, episode.x_query, torch.ones(2))


# --- siamese networks ----------------------------------------------------------------------


def test_siamese_scores_are_the_best_matching_support(episode):
    model = SiameseNetwork(nn.Identity(), embedding_dim=5).double()
    logits = model(episode.x_support, episode.y_support, episode.x_query)
    for q in range(4):
        for c in range(3):
            pair = [model.pair_logits(episode.x_query[q], episode.x_support[i]) for i in range(6)
                    if episode.y_support[i] == c]
            assert torch.isclose(logits[q, c], max(pair))
    verify = model.verify(episode.x_query[:2], episode.x_support[:2])
    assert torch.allclose(verify, model.verify(episode.x_support[:2], episode.x_query[:2])), "L1 is symmetric"


def test_verification_loss_weighs_both_kinds_equally():
    logits = torch.tensor([2.0, -1.0, 0.5, 0.0])
    same = torch.tensor([1, 0, 0, 0])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, same.float(), reduction="none")
    assert torch.isclose(verification_loss(logits, same), 0.5 * bce[0] + 0.5 * bce[1:].mean())
    with pytest.raises(ValueError, match="only 0 and 1"):
        verification_loss(logits, torch.tensor([2, 0, 0, 0]))


def test_siamese_loss_backpropagates(episode):
    model = SiameseNetwork(nn.Linear(5, 3), embedding_dim=3).double()
    model.loss(episode).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


# --- nearest neighbour, shared checks ------------------------------------------------------


def test_nearest_neighbour_is_pixel_nn(episode):
    logits = nearest_neighbour_logits(episode.x_support, episode.y_support, episode.x_query)
    nearest = torch.cdist(episode.x_query, episode.x_support).argmin(1)
    assert torch.equal(logits.argmax(1), episode.y_support[nearest])
    assert torch.equal(NearestNeighbour().predict(episode), episode.y_support[nearest])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.zeros(4, 3), torch.tensor([0, 0, 2, 2]), torch.zeros(2, 3)), "classes \\[1\\] have no example"),
        ((torch.zeros(4, 3), torch.tensor([0.0, 0, 1, 1]), torch.zeros(2, 3)), "integer tensor"),
        ((torch.zeros(4, 3), torch.tensor([0, 1, 1]), torch.zeros(2, 3)), "3 labels for 4"),
        ((torch.zeros(4, 3), torch.tensor([0, 0, 1, 1]), torch.zeros(2, 2)), "same dim"),
        ((torch.zeros(4, 3), torch.tensor([0, -1, 1, 1]), torch.zeros(2, 3)), ">= 0"),
    ],
)
def test_check_support_rejects(args, message):
    with pytest.raises(ValueError, match=message):
        check_support(*args)


@pytest.mark.parametrize("learner", ["proto", "matching", "siamese"])
def test_predict_embedded_equals_predict(generator, learner):
    encoder = ConvEncoder(hidden_channels=8)
    model = {
        "proto": lambda: PrototypicalNetwork(encoder),
        "matching": lambda: MatchingNetwork(encoder),
        "siamese": lambda: SiameseNetwork(encoder, embedding_dim=8),
    }[learner]().eval()
    x = torch.rand(30, 1, 28, 28, generator=generator)
    y = torch.arange(6).repeat_interleave(5)
    with torch.no_grad():
        z = model.embed(x)
        for seed in range(3):
            task = EpisodeSampler(x, y, 4, 2, 3, generator=torch.Generator().manual_seed(seed)).sample()
            embedded = EpisodeSampler(z, y, 4, 2, 3, generator=torch.Generator().manual_seed(seed)).sample()
            assert torch.equal(model.predict(task), model.predict_embedded(embedded))


# --- encoder and training ------------------------------------------------------------------


def test_conv_encoder_shapes():
    encoder = ConvEncoder()
    assert encoder(torch.zeros(2, 1, 28, 28)).shape == (2, 64) and encoder.output_dim(28) == 64
    assert ConvEncoder(hidden_channels=16).output_dim(56) == 16 * 3 * 3
    ceil = ConvEncoder(hidden_channels=8, ceil_mode=True)
    assert ceil.output_dim(28) == 8 * 2 * 2 and ceil(torch.zeros(3, 1, 28, 28)).shape == (3, 32)
    assert ceil.output_dim(42) == 8 * 3 * 3 and ceil(torch.zeros(1, 1, 42, 42)).shape == (1, 72)
    with pytest.raises(ValueError, match="too small"):
        encoder.output_dim(8)
    with pytest.raises(ValueError, match="hidden_channels"):
        ConvEncoder(hidden_channels=0)
    with pytest.raises(ValueError, match="images"):
        encoder(torch.zeros(2, 28, 28))


def test_train_metric_learner_learns_to_ignore_a_noise_feature(generator):
    # 40 classes on a line (feature 1) plus a loud feature 0 that carries no class information:
    # in the raw space the noise dominates distances; ProtoNet's linear encoder must learn to drop it
    y = torch.arange(40).repeat_interleave(20)
    signal = y.float() + 0.1 * torch.randn(800, generator=generator)
    x = torch.stack([20 * torch.randn(800, generator=generator), signal], dim=1)
    torch.manual_seed(0)
    model = PrototypicalNetwork(nn.Linear(2, 2))
    sampler = EpisodeSampler(x, y, 5, 1, 5, generator=generator)
    before = mll.evaluate_episodes(model.predict, sampler, 200).mean
    history = train_metric_learner(model, sampler, 200, lr=1e-2, progress=False)
    after = mll.evaluate_episodes(model.predict, sampler, 200).mean
    assert len(history["loss"]) == 200 and not model.training
    assert before < 0.6 and after > 0.9, (before, after)


def test_train_metric_learner_rejects():
    model = PrototypicalNetwork(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="num_steps"):
        train_metric_learner(model, [], 0)
    with pytest.raises(TypeError, match="loss"):
        train_metric_learner(nn.Linear(2, 2), [], 1)
    task = mll.Task(torch.zeros(2, 2), torch.tensor([0, 1]), torch.zeros(2, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="ran out after 1 of 2"):
        train_metric_learner(model, [task], 2, progress=False)


def test_evaluate_embedded_sees_the_same_episodes_as_image_evaluation(generator):
    model = PrototypicalNetwork(ConvEncoder(hidden_channels=8))
    x = torch.rand(40, 1, 28, 28, generator=generator)
    y = torch.arange(8).repeat_interleave(5)
    fast = mll.metric.evaluate_embedded(model, x, y, 4, 1, n_query=2, num_episodes=20, seed=5)
    model.eval()
    slow = mll.evaluate_episodes(
        model.predict, EpisodeSampler(x, y, 4, 1, 2, generator=torch.Generator().manual_seed(5)), 20)
    assert fast.episodes == 20 and abs(fast.mean - slow.mean) < 1e-6
    assert model.training is False  # left as it was
    pixel = mll.metric.evaluate_embedded(NearestNeighbour(), x, y, 4, 1, n_query=2, num_episodes=5)
    assert 0 <= pixel.mean <= 1
    z = mll.metric.embed_all(model.encoder, x, batch_size=7)
    assert torch.allclose(z, model.encoder(x), atol=1e-5)
