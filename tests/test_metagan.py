"""MetaGAN: the (N+1)-way losses against their definitions, the task-conditioned generator's
invariances, which parameters each loss reaches, the batched path against the loop, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_lite import MAML, Task
from metalearn_lite.adversarial import (
    MetaGAN,
    TaskConditionedGenerator,
    fake_class_loss,
    fake_probability,
    generator_loss,
    with_fake_logit,
)
from metalearn_lite.nets import MLP

DTYPE = torch.float64
N_WAY = 3


def blob_tasks(n: int, k_shot: int = 2, n_query: int = 4, seed: int = 0, spread: float = 0.3) -> list[Task]:
    """N_WAY Gaussian blobs in the plane per task, centres uniform in [-3, 3]^2."""
    g = torch.Generator().manual_seed(seed)
    tasks = []
    for _ in range(n):
        centres = torch.rand(N_WAY, 2, generator=g, dtype=DTYPE) * 6 - 3
        y_support = torch.arange(N_WAY).repeat_interleave(k_shot)
        y_query = torch.arange(N_WAY).repeat_interleave(n_query)
        x_support = centres[y_support] + spread * torch.randn(len(y_support), 2, generator=g, dtype=DTYPE)
        x_query = centres[y_query] + spread * torch.randn(len(y_query), 2, generator=g, dtype=DTYPE)
        tasks.append(Task(x_support, y_support, x_query, y_query))
    return tasks


def make_gan(seed: int = 0, num_fake: int = 2, inner_steps: int = 2) -> MetaGAN:
    torch.manual_seed(seed)
    model = MLP(2, (16,), N_WAY).to(DTYPE)
    gen = TaskConditionedGenerator(2, noise_dim=3, hidden=8).to(DTYPE)
    return MetaGAN(model, gen, N_WAY, num_fake, inner_lr=0.3, inner_steps=inner_steps)


def rng(seed: int = 7) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the losses -------------------------------------------------------------------------------


def test_fake_logit_probability_and_losses_match_their_definitions():
    logits = torch.randn(6, N_WAY, dtype=DTYPE, generator=rng())
    full = with_fake_logit(logits)
    assert full.shape == (6, N_WAY + 1) and torch.equal(full[:, :N_WAY], logits) and torch.all(full[:, N_WAY] == 0)
    p = torch.softmax(full, dim=1)
    assert torch.allclose(fake_probability(logits), p[:, N_WAY], atol=1e-15)
    assert torch.allclose(generator_loss(logits, reduction="none"), -torch.log(1 - p[:, N_WAY]), atol=1e-14)
    target = torch.tensor([0, 1, 2, 3, 3, 1])
    assert torch.allclose(fake_class_loss(logits, target), -torch.log(p[torch.arange(6), target]).mean(), atol=1e-14)
    assert torch.allclose(fake_class_loss(logits, target, reduction="sum"), fake_class_loss(logits, target) * 6)
    assert fake_class_loss(logits, target, reduction="none").shape == (6,)


def test_losses_are_stable_and_differentiable_for_extreme_logits():
    logits = torch.tensor([[80.0, -80.0], [-80.0, -90.0]], dtype=DTYPE, requires_grad=True)
    assert torch.isfinite(generator_loss(logits, reduction="none")).all()
    # -log(1 - p_fake) = -log(S / (1 + S)) with S = e^-80 + e^-90: about 80 - log(1 + e^-10)
    assert generator_loss(logits[1:]).item() == pytest.approx(80 - math.log1p(math.exp(-10)), abs=1e-9)
    assert torch.autograd.gradcheck(lambda x: generator_loss(x, reduction="none"), (logits,))
    assert torch.autograd.gradcheck(lambda x: fake_class_loss(x, torch.tensor([2, 0])), (logits,))


@pytest.mark.parametrize(("logits", "target", "reduction", "match"), [
    (torch.zeros(3), torch.zeros(3, dtype=torch.long), "mean", "logits must have 2 dimensions"),
    (torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), "mean", "target must be"),
    (torch.zeros(3, 2), torch.zeros(3), "mean", "target must be"),
    (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), "avg", "reduction"),
])
def test_losses_reject_bad_input(logits, target, reduction, match):
    with pytest.raises(ValueError, match=match):
        fake_class_loss(logits, target, reduction=reduction)


# --- the generator ----------------------------------------------------------------------------


def test_generator_is_conditioned_on_the_support_set_and_ignores_its_order():
    gen = make_gan().generator
    a, b = blob_tasks(2)
    out = gen(a.x_support, 5, generator=rng())
    assert out.shape == (5, 2)
    assert torch.allclose(gen(a.x_support.flip(0), 5, generator=rng()), out, atol=1e-14), "order of support matters"
    assert torch.equal(gen(a.x_support, 5, generator=rng()), out), "same noise seed, same samples"
    assert not torch.allclose(gen(b.x_support, 5, generator=rng()), out), "another task, other samples"
    assert not torch.allclose(gen(a.x_support, 5, generator=rng(8)), out), "other noise, other samples"


@pytest.mark.parametrize(("x", "num", "match"), [
    (torch.zeros(4, 3, dtype=DTYPE), 2, r"x_support must be \(n_support, 2\)"),
    (torch.zeros(0, 2, dtype=DTYPE), 2, "at least one"),
    (torch.zeros(4, 2, dtype=DTYPE), 0, "num_samples"),
])
def test_generator_rejects_bad_input(x, num, match):
    with pytest.raises(ValueError, match=match):
        make_gan().generator(x, num)


# --- MetaGAN ----------------------------------------------------------------------------------


def test_with_fakes_appends_detached_fakes_labelled_n_way():
    gan = make_gan(num_fake=2)
    task = blob_tasks(1)[0]
    faked = gan.with_fakes(task, rng())
    assert faked.x_support.shape == (len(task.x_support) + 2, 2) and faked.x_query.shape == (len(task.x_query) + 2, 2)
    assert faked.y_support[-2:].tolist() == [N_WAY, N_WAY] and faked.y_query[-2:].tolist() == [N_WAY, N_WAY]
    assert torch.equal(faked.x_support[:-2], task.x_support) and torch.equal(faked.y_query[:-2], task.y_query)
    assert not faked.x_support.requires_grad and not faked.x_query.requires_grad
    fakes = gan.generator(task.x_support, 4, generator=rng())
    assert torch.equal(faked.x_support[-2:], fakes[:2]) and torch.equal(faked.x_query[-2:], fakes[2:])


def test_discriminator_loss_is_mamls_meta_loss_on_the_faked_tasks_and_reaches_only_the_classifier():
    gan = make_gan()
    tasks = blob_tasks(3)
    loss = gan.discriminator_loss(tasks, rng())
    noise = rng()
    expected = gan.maml.meta_loss([gan.with_fakes(t, noise) for t in tasks])
    assert loss.item() == pytest.approx(expected.item(), abs=1e-14)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in gan.discriminator_parameters())
    assert all(p.grad is None for p in gan.generator_parameters())


def test_generator_loss_matches_a_hand_computation_and_reaches_only_the_generator():
    gan = make_gan(num_fake=2, inner_steps=2)
    task = blob_tasks(1)[0]
    loss = gan.generator_loss([task], rng())
    # By hand: the same fakes, two SGD steps of the (N+1)-way loss on support + fakes, then -log(1 - p_fake).
    fakes = gan.generator(task.x_support, 4, generator=rng()).detach()
    x = torch.cat([task.x_support, fakes[:2]])
    y = torch.cat([task.y_support, torch.full((2,), N_WAY)])
    params = {k: v.detach().requires_grad_() for k, v in gan.maml.model.named_parameters()}
    for _ in range(2):
        grads = torch.autograd.grad(fake_class_loss(torch.func.functional_call(gan.maml.model, params, (x,)), y),
                                    list(params.values()))
        params = {k: (v - 0.3 * g).detach().requires_grad_() for (k, v), g in zip(params.items(), grads, strict=True)}
    logits = torch.func.functional_call(gan.maml.model, params, (fakes[2:],))
    assert loss.item() == pytest.approx(-torch.log(1 - fake_probability(logits)).mean().item(), abs=1e-13)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in gan.generator_parameters())
    assert all(p.grad is None for p in gan.discriminator_parameters())


def test_generator_loss_batched_path_equals_loop_path():
    tasks = blob_tasks(4)
    results = []
    for path in ("vmap", "loop"):
        gan = make_gan()
        gan.maml.path = path
        assert gan.maml.path_for(tasks) == path
        loss = gan.generator_loss(tasks, rng())
        results.append((loss.item(), torch.autograd.grad(loss, gan.generator_parameters())))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert loss_a == pytest.approx(loss_b, abs=1e-13)
    assert max((a - b).abs().max().item() for a, b in zip(grads_a, grads_b, strict=True)) < 1e-12


def test_predict_gives_real_labels_and_without_fakes_equals_plain_adaptation():
    gan = make_gan()
    task = blob_tasks(1)[0]
    predicted = gan.predict(task, rng())
    assert predicted.shape == task.y_query.shape and predicted.min() >= 0 and predicted.max() < N_WAY
    plain = MAML(gan.maml.model, fake_class_loss, 0.3, inner_steps=2)
    with torch.no_grad():
        expected = plain(task.x_query, plain.adapt(task.x_support, task.y_support)).argmax(1)
    assert torch.equal(gan.predict(task, use_fakes=False), expected)


def test_step_updates_both_players_and_returns_the_discriminator_loss():
    gan = make_gan(num_fake=4)
    d_opt = torch.optim.Adam(gan.discriminator_parameters(), 1e-2)
    g_opt = torch.optim.Adam(gan.generator_parameters(), 1e-3)
    d_before = [p.detach().clone() for p in gan.discriminator_parameters()]
    g_before = [p.detach().clone() for p in gan.generator_parameters()]
    tasks = blob_tasks(2)
    expected = gan.discriminator_loss(tasks, rng()).item()
    assert gan.step(tasks, d_opt, g_opt, rng()) == pytest.approx(expected, abs=1e-14)
    assert all(not torch.equal(a, b) for a, b in zip(d_before, gan.discriminator_parameters(), strict=True))
    assert all(not torch.equal(a, b) for a, b in zip(g_before, gan.generator_parameters(), strict=True))


def test_the_discriminator_learns_to_flag_the_fakes_of_a_fixed_generator():
    gan = make_gan(num_fake=4)
    d_opt = torch.optim.Adam(gan.discriminator_parameters(), 3e-2)
    noise = rng()
    for i in range(30):
        d_opt.zero_grad()
        gan.discriminator_loss(blob_tasks(4, seed=i), noise).backward()
        d_opt.step()
    faked = gan.with_fakes(blob_tasks(1, seed=1000)[0], noise)  # a task never trained on
    with torch.no_grad():
        p = fake_probability(gan.maml(faked.x_query, gan.maml.adapt(faked.x_support, faked.y_support)))
    assert p[-4:].mean() > p[:-4].mean() + 0.2, f"p(fake): fakes {p[-4:].mean():.2f}, real {p[:-4].mean():.2f}"


def test_metagan_rejects_bad_arguments_and_labels():
    model, gen = MLP(2, (4,), N_WAY), TaskConditionedGenerator(2)
    with pytest.raises(ValueError, match="n_way"):
        MetaGAN(model, gen, 1, 2, 0.1)
    with pytest.raises(ValueError, match="num_fake"):
        MetaGAN(model, gen, N_WAY, 0, 0.1)
    with pytest.raises(ValueError, match="inner_lr"):
        MetaGAN(model, gen, N_WAY, 2, -0.1)
    with pytest.raises(TypeError, match="generator"):
        MetaGAN(model, "gen", N_WAY, 2, 0.1)
    gan = make_gan()
    task = blob_tasks(1)[0]
    bad = Task(task.x_support, task.y_support, task.x_query, torch.full_like(task.y_query, N_WAY))
    with pytest.raises(ValueError, match=r"tasks\[0\].y_query must hold class indices in 0 .. 2"):
        gan.discriminator_loss([bad])
    with pytest.raises(ValueError, match="y_support"):
        gan.generator_loss([Task(task.x_support, task.y_support.double(), task.x_query, task.y_query)])
    with pytest.raises(ValueError, match="non-empty"):
        gan.discriminator_loss([])
