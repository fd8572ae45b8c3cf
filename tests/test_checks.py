"""The one argument-check module: each rule, the wording of its errors, and the non-finite guards."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from metalearn_lite import checks
from metalearn_lite.tasks import Task


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-3, ValueError), (1.0, TypeError), (True, TypeError),
                                              ("2", TypeError), (None, TypeError)])
def test_positive_int_refuses_and_names_the_argument(value, error):
    with pytest.raises(error, match=r"^k_shot must be an int >= 1, got"):
        checks.positive_int("k_shot", value)
    assert checks.positive_int("k_shot", 3) == 3
    assert checks.non_negative_int("n_query", 0) == 0


@pytest.mark.parametrize("value", [0.0, -1, math.nan, math.inf, True, "0.1", torch.tensor(0.1)])
def test_positive_number_refuses(value):
    with pytest.raises((TypeError, ValueError), match="^inner_lr must be"):
        checks.positive_number("inner_lr", value)
    assert checks.positive_number("inner_lr", 1) == 1.0


def test_number_bounds_and_probability():
    assert checks.number("x", 0.5, 0.0, 1.0, low_open=True) == 0.5
    with pytest.raises(ValueError, match="x must be a finite number > 0 and <= 1"):
        checks.number("x", 0.0, 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match="discount"):
        checks.probability("discount", 1.5)


def test_boolean_one_of_generator_module_callable():
    assert checks.boolean("first_order", False) is False
    with pytest.raises(TypeError, match="first_order must be True or False, got str 'no'"):
        checks.boolean("first_order", "no")
    with pytest.raises(ValueError, match=r"path must be one of \('loop', 'vmap'\), got 'fast'"):
        checks.one_of("path", "fast", ("loop", "vmap"))
    assert checks.generator("generator", None) is None
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        checks.generator("generator", 0, optional=False)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        checks.module("model", lambda x: x)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        checks.callable_("loss_fn", "mse")


def test_tensor_and_labels():
    with pytest.raises(ValueError, match=r"x must have 2 or 4 dimensions, got shape \(3,\)"):
        checks.tensor("x", torch.zeros(3), dim=(2, 4))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        checks.tensor("x", torch.zeros(3, dtype=torch.long), floating=True)
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        checks.labels("y", torch.zeros(3))
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        checks.labels("y", torch.zeros(3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"y must hold class indices in 0 .. 4, got values 0 .. 5"):
        checks.labels("y", torch.tensor([0, 5]), n_classes=5)
    with pytest.raises(ValueError, match=r"y must hold class indices in 0, got values -1 .. 1"):
        checks.labels("y", torch.tensor([-1, 1]))
    with pytest.raises(ValueError, match=r"one label per example \(3\)"):
        checks.labels("y", torch.tensor([0, 1]), length=3)


def test_data_must_match_the_models_dtype():
    model = nn.Linear(2, 1)
    checks.matches_model("x", torch.zeros(1, 2), model)
    with pytest.raises(ValueError, match=r"x is torch.float64 but the model's parameters are torch.float32"):
        checks.matches_model("x", torch.zeros(1, 2, dtype=torch.float64), model)
    checks.matches_model("y", torch.zeros(1, dtype=torch.long), model)  # labels: device only
    checks.matches_model("x", torch.zeros(1, 2, dtype=torch.float64), nn.ReLU())  # no parameters: nothing to match


def test_check_tasks():
    labels = torch.zeros(3, dtype=torch.long)
    task = Task(torch.zeros(3, 2), labels, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    assert checks.check_tasks([task]) == [task]
    assert checks.check_tasks([tuple(task)]) == [task]
    with pytest.raises(TypeError, match=r"got a single task; pass \[task\]"):
        checks.check_tasks(task)
    with pytest.raises(ValueError, match="non-empty"):
        checks.check_tasks([])
    with pytest.raises(ValueError, match=r"tasks\[0\].y_query must be like y_support"):
        checks.check_tasks([task._replace(y_query=torch.zeros(4))])
    with pytest.raises(ValueError, match=r"tasks\[0\].x_query examples must have the shape of x_support"):
        checks.check_tasks([task._replace(x_query=torch.zeros(4, 3))])
    with pytest.raises(ValueError, match=r"tasks\[0\].x_support must hold at least one example"):
        checks.check_tasks([task._replace(x_support=torch.zeros(0, 2), y_support=torch.zeros(0, dtype=torch.long))])
    with pytest.raises(TypeError, match=r"tasks\[0\].x_query must be a Tensor"):
        checks.check_tasks([task._replace(x_query=[0.0])])


def test_non_finite_guards_name_the_loss_the_task_and_the_step():
    with pytest.raises(checks.NonFiniteLossError, match=r"the inner loss of task 3 at inner step 1 is nan"):
        checks.raise_if_non_finite(torch.tensor([[0.0, 1.0], [1.0, math.nan]]), "inner loss", first_task=2)
    with pytest.raises(ValueError, match=r"the query loss of task 1 is inf"):  # also a ValueError
        checks.raise_if_non_finite(torch.tensor([0.0, math.inf]), "query loss")
    with pytest.raises(FloatingPointError, match=r"the support loss of task 0 at step 7 is nan"):
        checks.raise_if_non_finite(torch.tensor([math.nan]), "support loss", step=7)
    checks.raise_if_non_finite(torch.zeros(2, 3), "inner loss")
    with pytest.raises(checks.NonFiniteLossError, match="the meta-loss is .nan. .not finite.; the parameters were"):
        checks.finite_loss(torch.tensor(math.nan), "the meta-loss")
