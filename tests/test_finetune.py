"""Per-task training with vmap equals training every task on its own."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn_lite import MAML
from metalearn_lite.data import sinusoid
from metalearn_lite.gradient.finetune import fit_each_task, predict_each_task
from metalearn_lite.nets import MLP


@pytest.fixture
def model_and_tasks():
    torch.manual_seed(0)
    model = MLP(hidden=(6, 5)).double()
    tasks = sinusoid.sample_tasks(4, 5, n_query=7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return model, tasks


def loop_reference(model, tasks, steps, lr, optimizer):
    """One optimiser per task, one task after another (the computation fit_each_task batches)."""
    trained = []
    for task in tasks:
        weights = {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(list(weights.values()), lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            F.mse_loss(functional_call(model, weights, (task.x_support,)), task.y_support).backward()
            opt.step()
        trained.append({k: v.detach() for k, v in weights.items()})
    return trained


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_batched_training_equals_a_loop_over_tasks(model_and_tasks, optimizer):
    model, tasks = model_and_tasks
    batched = fit_each_task(model, F.mse_loss, tasks, num_steps=6, lr=0.02, optimizer=optimizer)
    for i, reference in enumerate(loop_reference(model, tasks, 6, 0.02, optimizer)):
        for name, value in reference.items():
            torch.testing.assert_close(batched[name][i], value, rtol=1e-10, atol=1e-12)
    assert not torch.equal(batched["layers.0.weight"][0], model.layers[0].weight), "training moved the weights"


def test_sgd_from_given_weights_equals_maml_adapt(model_and_tasks):
    model, tasks = model_and_tasks
    start = {k: v.detach() + 0.1 for k, v in model.named_parameters()}
    batched = fit_each_task(model, F.mse_loss, tasks, num_steps=3, lr=0.05, optimizer="sgd", params=start)
    maml = MAML(model, F.mse_loss, inner_lr=0.05, inner_steps=3)
    with torch.no_grad():
        for i, task in enumerate(tasks):
            fast = maml.adapt(task.x_support, task.y_support, params=start)
            for name, value in fast.items():
                torch.testing.assert_close(batched[name][i], value, rtol=1e-10, atol=1e-12)


def test_predict_each_task_applies_each_tasks_weights(model_and_tasks):
    model, tasks = model_and_tasks
    weights = fit_each_task(model, F.mse_loss, tasks, num_steps=2, lr=0.01)
    x_query = torch.stack([t.x_query for t in tasks])  # (4, 7, 1)
    predictions = predict_each_task(model, weights, x_query)
    assert predictions.shape == (4, 7, 1)
    for i in range(4):
        expected = functional_call(model, {k: v[i] for k, v in weights.items()}, (x_query[i],))
        torch.testing.assert_close(predictions[i], expected)


def test_bad_arguments_raise(model_and_tasks):
    model, tasks = model_and_tasks
    with pytest.raises(ValueError, match="steps"):
        fit_each_task(model, F.mse_loss, tasks, num_steps=0, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        fit_each_task(model, F.mse_loss, tasks, num_steps=1, lr=-1.0)
    with pytest.raises(ValueError, match="optimizer"):
        fit_each_task(model, F.mse_loss, tasks, num_steps=1, lr=0.1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="empty"):
        fit_each_task(model, F.mse_loss, [], num_steps=1, lr=0.1)
    mixed = [*tasks[:2], *sinusoid.sample_tasks(1, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)]
    with pytest.raises(ValueError, match="different shapes"):
        fit_each_task(model, F.mse_loss, mixed, num_steps=1, lr=0.1)
    with pytest.raises(ValueError, match=r"task \d+ at step \d+ is inf"):
        fit_each_task(model, F.mse_loss, tasks, num_steps=50, lr=1e6, optimizer="sgd")
    weights = fit_each_task(model, F.mse_loss, tasks, num_steps=1, lr=0.1)
    with pytest.raises(ValueError, match="share a leading n_tasks dimension"):
        predict_each_task(model, weights, torch.zeros(3, 7, 1, dtype=torch.float64))
