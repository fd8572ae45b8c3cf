"""The shared meta-training loop, its step functions and the adaptation curve."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from metalearn_lite import MAML, Reptile
from metalearn_lite.data import sinusoid
from metalearn_lite.nets import MLP
from metalearn_lite.training import adaptation_losses, joint_training_step, meta_loss_step, meta_train


def test_meta_train_records_every_loss_and_the_evaluations():
    calls = []
    history = meta_train(lambda tasks: float(len(tasks)), lambda: [0, 1, 2], 7,
                         evaluate=lambda: calls.append(1) or len(calls), eval_every=3, progress=False)
    assert history["loss"] == [3.0] * 7
    assert history["eval_iteration"] == [3, 6, 7]
    assert history["eval"] == [1, 2, 3]


@pytest.mark.parametrize(("kwargs", "name"), [({"num_steps": 0}, "num_steps"),
                                              ({"num_steps": 2, "eval_every": -1}, "eval_every")])
def test_meta_train_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        meta_train(lambda tasks: 0.0, lambda: [], progress=False, **kwargs)


def test_maml_training_lowers_the_post_adaptation_loss():
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    maml = MAML(MLP(hidden=(20, 20)), F.mse_loss, inner_lr=0.01)
    held_out = sinusoid.sample_tasks(100, 10, generator=torch.Generator().manual_seed(99))
    before = adaptation_losses(maml, held_out, 1)[:, 1].mean().item()
    step = meta_loss_step(maml, torch.optim.Adam(maml.parameters(), lr=1e-3))
    history = meta_train(step, lambda: sinusoid.sample_tasks(10, 10, generator=generator), 200, progress=False)
    after = adaptation_losses(maml, held_out, 1)[:, 1].mean().item()
    assert len(history["loss"]) == 200
    assert after < 0.9 * before, (before, after)


def test_joint_training_fits_the_pooled_points():
    torch.manual_seed(0)
    model = MLP(hidden=(8,))
    tasks = sinusoid.sample_tasks(4, 5, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    loss = joint_training_step(model, F.mse_loss, optimizer)(tasks)
    x = torch.cat([torch.cat([t.x_support, t.x_query]) for t in tasks])
    y = torch.cat([torch.cat([t.y_support, t.y_query]) for t in tasks])
    assert loss == pytest.approx(F.mse_loss(model(x), y).item())


def test_adaptation_losses_columns_are_successive_inner_steps():
    torch.manual_seed(0)
    reptile = Reptile(MLP(hidden=(8,)), F.mse_loss, inner_lr=0.02, inner_steps=1, outer_lr=0.1)
    tasks = sinusoid.sample_tasks(3, 5, generator=torch.Generator().manual_seed(0))
    losses = adaptation_losses(reptile, tasks, 3)
    assert losses.shape == (3, 4)
    for i, t in enumerate(tasks):
        assert losses[i, 0].item() == pytest.approx(F.mse_loss(reptile(t.x_query), t.y_query).item())
        fast = reptile.adapt(t.x_support, t.y_support, inner_steps=3)
        assert losses[i, 3].item() == pytest.approx(F.mse_loss(reptile(t.x_query, fast), t.y_query).item())
    with pytest.raises(ValueError, match="max_inner_steps"):
        adaptation_losses(reptile, tasks, -1)


def test_a_non_finite_loss_stops_training_with_the_weights_bitwise_unchanged():
    from metalearn_lite.checks import NonFiniteLossError
    from metalearn_lite.training import optimizer_step

    model = MLP(hidden=(8,))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    x = torch.randn(5, 1)
    optimizer_step(optimizer, model(x).pow(2).mean(), "a finite loss")  # Adam has state now
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = {k: {n: t.clone() for n, t in s.items()} for k, s in optimizer.state.items()}
    for bad in (float("nan"), float("inf")):
        with pytest.raises(NonFiniteLossError, match="the query loss at step 3"):
            optimizer_step(optimizer, model(x).pow(2).mean() * bad, "the query loss at step 3")
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(torch.equal(t, state[k][n]) for k, s in optimizer.state.items() for n, t in s.items())


def test_meta_loss_step_refuses_a_nan_query_loss_before_the_step():
    from metalearn_lite.checks import NonFiniteLossError

    maml = MAML(MLP(hidden=(8,)), F.mse_loss, inner_lr=0.01)
    tasks = sinusoid.sample_tasks(3, 5, generator=torch.Generator().manual_seed(0))
    bad = tasks[1]._replace(y_query=torch.full_like(tasks[1].y_query, float("nan")))
    step = meta_loss_step(maml, torch.optim.Adam(maml.parameters(), lr=1e-3))
    before = [p.clone() for p in maml.parameters()]
    for path in ("loop", "vmap"):
        maml.path = path
        with pytest.raises(NonFiniteLossError, match="query loss of task 1"):
            step([tasks[0], bad, tasks[2]])
    assert all(torch.equal(a, b) for a, b in zip(before, maml.parameters(), strict=True))


def test_maml_with_a_huge_inner_lr_stops_instead_of_returning_a_huge_loss():
    from metalearn_lite.checks import NonFiniteLossError

    maml = MAML(MLP(hidden=(8,)), F.mse_loss, inner_lr=1e8, inner_steps=5)
    tasks = sinusoid.sample_tasks(2, 5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(NonFiniteLossError, match="inner .support. loss of task"):
        maml.meta_loss(tasks)
