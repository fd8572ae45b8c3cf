"""Argument checks shared by the whole package: one wording, one rule per kind of argument.

Every public function and class validates what a user passes with these helpers, so a mistake
gives a ``TypeError`` (wrong type) or ``ValueError`` (right type, wrong value) whose message names
the argument, the value received and what was expected. The rules:

* integers refuse ``bool`` (``True`` is an ``int`` to Python, never a count to us) and floats;
* real numbers refuse ``bool``, NaN and infinities;
* flags must be real ``bool`` s (``first_order="no"`` is refused, not read as true);
* labels are 1-D integer tensors with values in ``0 .. n_classes - 1``;
* data and model agree on floating dtype and device before any arithmetic, so the error names the
  tensor instead of surfacing as torch's "mat1 and mat2 must have the same dtype";
* a loss that feeds an optimiser step must be finite (:func:`finite_loss`), checked *before* the
  step so the parameters stay as they were.

Nothing here imports from the rest of the package except :class:`~metalearn_lite.tasks.Task`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .tasks import Task

__all__ = [
    "NonFiniteLossError", "boolean", "callable_", "check_tasks", "finite_loss", "generator", "int_at_least",
    "labels", "matches_model", "module", "non_negative_int", "number", "one_of", "positive_int", "positive_ints",
    "positive_number", "probability", "raise_if_non_finite", "sequences", "support_set", "tensor",
]


class NonFiniteLossError(FloatingPointError, ValueError):
    """A loss that should feed a gradient step is NaN or infinite (also a ``ValueError``)."""


def _got(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def int_at_least(name: str, value: object, low: int) -> int:
    """``value`` as an int ``>= low``; ``TypeError`` for a non-int (bools included), else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {low}, got {_got(value)}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value}")
    return value


def positive_int(name: str, value: object) -> int:
    """``value`` as an int ``>= 1`` (see :func:`int_at_least`)."""
    return int_at_least(name, value, 1)


def non_negative_int(name: str, value: object) -> int:
    """``value`` as an int ``>= 0`` (see :func:`int_at_least`)."""
    return int_at_least(name, value, 0)


def positive_ints(**values: object) -> None:
    """:func:`positive_int` on every keyword: ``positive_ints(n_way=n_way, k_shot=k_shot)``."""
    for name, value in values.items():
        positive_int(name, value)


def number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float within the bounds given (closed unless ``*_open``).

    Raises:
        TypeError: not an int or float (bools and tensors refused).
        ValueError: NaN, infinite, or out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {_got(value)}")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        raise ValueError(f"{name} must be a finite number{' ' + bounds if bounds else ''}, got {value!r}")
    return value


def positive_number(name: str, value: object) -> float:
    """``value`` as a finite float ``> 0`` (learning rates, step sizes, temperatures)."""
    return number(name, value, 0.0, low_open=True)


def probability(name: str, value: object) -> float:
    """``value`` as a float in ``[0, 1]``."""
    return number(name, value, 0.0, 1.0)


def boolean(name: str, value: object) -> bool:
    """``value`` if it is a ``bool``; ``TypeError`` otherwise (strings and ints are not flags)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_got(value)}")
    return value


def one_of(name: str, value: Any, options: Sequence[Any]) -> Any:
    """``value`` if it is one of ``options``, else ``ValueError`` listing them."""
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def generator(name: str, value: object, optional: bool = True) -> torch.Generator | None:
    """``value`` if it is a ``torch.Generator`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, torch.Generator):
        expected = "a torch.Generator or None" if optional else "a torch.Generator"
        raise TypeError(f"{name} must be {expected}, got {_got(value)}")
    return value


def module(name: str, value: object) -> nn.Module:
    """``value`` if it is an ``nn.Module``."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be an nn.Module, got {type(value).__name__}")
    return value


def callable_(name: str, value: object) -> Callable:
    """``value`` if it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def tensor(name: str, value: object, dim: int | Iterable[int] | None = None, floating: bool | None = None) -> Tensor:
    """``value`` if it is a tensor of the given rank(s) and kind.

    Args:
        dim: the allowed number(s) of dimensions (any when ``None``).
        floating: ``True`` requires a floating dtype, ``False`` an integer one (bool refused).
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(value).__name__}")
    dims = None if dim is None else ({dim} if isinstance(dim, int) else set(dim))
    if dims is not None and value.dim() not in dims:
        want = " or ".join(str(d) for d in sorted(dims))
        raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(value.shape)}")
    if floating is True and not value.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    if floating is False and (value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor, got {value.dtype}")
    return value


def labels(name: str, value: object, n_classes: int | None = None, length: int | None = None) -> Tensor:
    """``value`` if it is a 1-D integer tensor of class indices in ``0 .. n_classes - 1``.

    Args:
        n_classes: the number of classes (no upper bound checked when ``None``).
        length: the number of labels required (one per example of the data they label).
    """
    tensor(name, value, dim=1, floating=False)
    if length is not None and value.shape[0] != length:
        raise ValueError(f"{name} must hold one label per example ({length}), got {value.shape[0]}")
    if value.numel():
        low, high = int(value.min()), int(value.max())
        if low < 0 or (n_classes is not None and high >= n_classes):
            top = "" if n_classes is None else f" .. {n_classes - 1}"
            raise ValueError(f"{name} must hold class indices in 0{top}, got values {low} .. {high}")
    return value


def matches_model(name: str, value: Tensor, model: nn.Module) -> None:
    """``ValueError`` unless the floating tensor ``value`` has the dtype and device of ``model``'s parameters.

    Integer tensors (labels) are only checked for the device.
    """
    reference = next(model.parameters(), None)
    if reference is None:
        return
    if value.device != reference.device:
        raise ValueError(f"{name} is on {value.device} but the model's parameters are on {reference.device}; "
                         f"move one of them (task.to(device) or model.to(device))")
    if value.dtype.is_floating_point and value.dtype != reference.dtype:
        raise ValueError(f"{name} is {value.dtype} but the model's parameters are {reference.dtype}; "
                         f"convert one of them (x.to({reference.dtype}) or model.to({value.dtype}))")


def sequences(name: str, value: object, model: nn.Module, input_size: int) -> Tensor:
    """``value`` if it is a batch of sequences ``(B, T, input_size)`` with ``model``'s dtype and device."""
    tensor(name, value)
    matches_model(name, value, model)
    if value.dim() != 3 or value.shape[-1] != input_size:
        raise ValueError(f"{name} must have shape (B, T, {input_size}), got {tuple(value.shape)}")
    return value


def _examples(x_name: str, x: object, y_name: str, y: object) -> tuple[Tensor, Tensor]:
    tensor(x_name, x)
    tensor(y_name, y)
    if x.dim() == 0:
        raise ValueError(f"{x_name} must have a leading dimension of examples, got a scalar")
    if y.dim() == 0 or y.shape[0] != x.shape[0]:
        raise ValueError(f"{y_name} must have one row per {x_name} example ({x.shape[0]}), got shape {tuple(y.shape)}")
    return x, y


def support_set(x_support: object, y_support: object, where: str = "") -> tuple[Tensor, Tensor]:
    """``(x_support, y_support)`` if they are tensors with one target row per example, at least one.

    Args:
        where: a prefix for the names in messages, e.g. ``"tasks[3]."``.
    """
    x, y = _examples(f"{where}x_support", x_support, f"{where}y_support", y_support)
    if x.shape[0] == 0:
        raise ValueError(f"{where}x_support must hold at least one example, got shape {tuple(x.shape)}")
    return x, y


def check_tasks(tasks: object) -> list[Task]:
    """Validate a non-empty sequence of tasks and return it as a list of :class:`Task`.

    Raises:
        TypeError: ``tasks`` is not a sequence of 4-tuples of tensors (a single ``Task`` is refused:
            wrap it in a list).
        ValueError: it is empty, or a task's support and query shapes disagree.
    """
    if isinstance(tasks, Tensor | str) or not isinstance(tasks, Sequence):
        raise TypeError(f"tasks must be a sequence of Task, got {type(tasks).__name__}")
    if isinstance(tasks, Task) or (len(tasks) == 4 and all(isinstance(t, Tensor) for t in tasks)):
        raise TypeError("tasks must be a sequence of Task, got a single task; pass [task]")
    if len(tasks) == 0:
        raise ValueError("tasks must be a non-empty sequence of Task, got an empty one")
    checked = []
    for i, task in enumerate(tasks):
        if not isinstance(task, tuple) or len(task) != 4:
            raise TypeError(
                f"tasks[{i}] must be a Task (x_support, y_support, x_query, y_query), got {type(task).__name__}"
            )
        task = Task(*task)
        where = f"tasks[{i}]."
        xs, ys = support_set(task.x_support, task.y_support, where)
        xq, yq = _examples(f"{where}x_query", task.x_query, f"{where}y_query", task.y_query)
        if xq.shape[1:] != xs.shape[1:]:
            raise ValueError(f"{where}x_query examples must have the shape of x_support examples "
                             f"{tuple(xs.shape[1:])}, got {tuple(xq.shape[1:])}")
        if yq.shape[1:] != ys.shape[1:] or yq.dtype.is_floating_point != ys.dtype.is_floating_point:
            raise ValueError(f"{where}y_query must be like y_support ({ys.dtype} rows of shape "
                             f"{tuple(ys.shape[1:])}), got {yq.dtype} rows of shape {tuple(yq.shape[1:])}")
        checked.append(task)
    return checked


def raise_if_non_finite(losses: Tensor, what: str, first_task: int | None = 0, step: int | None = None) -> None:
    """Raise :class:`NonFiniteLossError` naming the first non-finite entry of ``losses``.

    Args:
        losses: ``(n_tasks,)`` one loss per task, or ``(n_tasks, inner_steps)`` one per inner step.
        what: the loss, e.g. ``"inner (support) loss"``.
        first_task: the index of row 0 in the caller's numbering; ``None`` for a single, unnumbered task.
        step: the training step, named in the message for ``(n_tasks,)`` losses.
    """
    bad = (~torch.isfinite(losses.detach())).nonzero()
    if len(bad):
        task = int(bad[0][0])
        which = "the task" if first_task is None else f"task {task + first_task}"
        at = f" at inner step {int(bad[0][1])}" if losses.dim() == 2 else "" if step is None else f" at step {step}"
        raise NonFiniteLossError(
            f"the {what} of {which}{at} is {losses[tuple(bad[0])].item()}; the parameters were not "
            "updated. Lower the (inner) learning rate, or check the task's data"
        )


def finite_loss(loss: Tensor, what: str) -> Tensor:
    """``loss`` if every entry is finite; :class:`NonFiniteLossError` naming ``what`` otherwise.

    Training loops call it before ``backward()`` and the optimiser step, so a NaN or infinite loss
    stops training with the parameters untouched.
    """
    if not bool(torch.isfinite(loss.detach()).all()):
        raise NonFiniteLossError(f"{what} is {loss.detach().flatten()[:4].tolist()} (not finite); the "
                                 "parameters were not updated. Lower the learning rate or check the data")
    return loss
