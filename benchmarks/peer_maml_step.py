"""The same tiny second-order MAML step in each library style, and whether their meta-gradients agree.

Chapter 6 (notebooks/11_tools_and_resources.ipynb) quotes this script's output. It compares, on
identical weights and tasks (float64, a 1-8-1 tanh network, 3 sinusoid tasks of 5 + 5 points, one
inner SGD step of 0.1, second order):

* ``metalearn_lite.MAML`` (the reference),
* plain ``torch.func`` (``grad`` for the inner step, ``vmap`` over tasks),
* ``higher`` 0.2.1 (``innerloop_ctx``), when importable,
* ``learn2learn`` 0.2.0 (``algorithms.MAML``: ``clone`` then ``adapt``), when importable,
* ``torchmeta`` 1.8.0 (``MetaModule`` + ``gradient_update_parameters``), when importable.

The peers are never dependencies of the project. Install them in a scratch environment:
``pip install torch==2.13.0 higher``; learn2learn needs its sdist's Cython files regenerated
(``cython -3`` on its three ``.pyx``) and ``pip install --no-deps --no-build-isolation``; torchmeta
needs ``pip install --no-deps torchmeta==1.8.0`` (it declares ``torch<1.10``). Their package
``__init__`` files import torchvision and dataset code, so this script imports only the modules it
needs, from the installed files, without running those ``__init__`` files (:func:`import_submodule`).

Run: ``python benchmarks/peer_maml_step.py`` (prints a Markdown table). It times nothing: on a
network this small, the numbers would measure Python overhead, not the libraries.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

import metalearn_lite as mll
from metalearn_lite.data import sinusoid

INNER_LR = 0.1


def import_submodule(package: str, submodule: str) -> types.ModuleType:
    """Import ``package.submodule`` from the installed files without executing ``package/__init__.py``."""
    if f"{package}.{submodule}" in sys.modules:
        return sys.modules[f"{package}.{submodule}"]
    if package in sys.modules:
        root = Path(list(sys.modules[package].__path__)[0])
    else:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ImportError(f"{package} is not installed")
        root = Path(spec.origin).parent
    parts = submodule.split(".")
    for depth in range(len(parts)):  # empty stand-ins for the package and its intermediate packages
        name = ".".join([package, *parts[:depth]])
        if name not in sys.modules:
            stub = types.ModuleType(name)
            stub.__path__ = [str(root.joinpath(*parts[:depth]))]
            sys.modules[name] = stub
    return importlib.import_module(f"{package}.{submodule}")


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).double()


def make_tasks() -> list[mll.Task]:
    return sinusoid.sample_tasks(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


# --- the same step, five ways ------------------------------------------------------------------


def step_metalearn_lite(model, tasks):
    maml = mll.MAML(model, F.mse_loss, inner_lr=INNER_LR)
    return torch.autograd.grad(maml.meta_loss(tasks), list(model.parameters()))


def step_torch_func(model, tasks):
    theta = dict(model.named_parameters())

    def loss(params, x, y):
        return F.mse_loss(functional_call(model, params, (x,)), y)

    def query_loss_after_one_step(x_support, y_support, x_query, y_query):
        g = grad(loss)(theta, x_support, y_support)
        fast = {k: theta[k] - INNER_LR * g[k] for k in theta}
        return loss(fast, x_query, y_query)

    meta_loss = vmap(query_loss_after_one_step)(*mll.stack_tasks(tasks)).mean()
    return torch.autograd.grad(meta_loss, list(theta.values()))


def step_higher(model, tasks):
    import higher

    inner_opt = torch.optim.SGD(model.parameters(), lr=INNER_LR)
    meta_loss = 0.0
    for x_support, y_support, x_query, y_query in tasks:
        with higher.innerloop_ctx(model, inner_opt, copy_initial_weights=False) as (fmodel, diffopt):
            diffopt.step(F.mse_loss(fmodel(x_support), y_support))
            meta_loss = meta_loss + F.mse_loss(fmodel(x_query), y_query) / len(tasks)
    return torch.autograd.grad(meta_loss, list(model.parameters()))


def step_learn2learn(model, tasks):
    l2l_maml = import_submodule("learn2learn", "algorithms.maml")
    maml = l2l_maml.MAML(model, lr=INNER_LR, first_order=False)
    meta_loss = 0.0
    for x_support, y_support, x_query, y_query in tasks:
        learner = maml.clone()
        learner.adapt(F.mse_loss(learner(x_support), y_support))
        meta_loss = meta_loss + F.mse_loss(learner(x_query), y_query) / len(tasks)
    return torch.autograd.grad(meta_loss, list(model.parameters()))


def step_torchmeta(model, tasks):
    tm = import_submodule("torchmeta", "modules")
    update = import_submodule("torchmeta", "utils.gradient_based").gradient_update_parameters
    meta_model = tm.MetaSequential(tm.MetaLinear(1, 8), nn.Tanh(), tm.MetaLinear(8, 1)).double()
    meta_model.load_state_dict(model.state_dict())  # same weights, a MetaModule class
    meta_loss = 0.0
    for x_support, y_support, x_query, y_query in tasks:
        params = update(meta_model, F.mse_loss(meta_model(x_support), y_support), step_size=INNER_LR)
        meta_loss = meta_loss + F.mse_loss(meta_model(x_query, params=params), y_query) / len(tasks)
    return torch.autograd.grad(meta_loss, list(meta_model.parameters()))


STEPS: dict[str, tuple[str, Callable]] = {
    "metalearn_lite": ("metalearn_lite", step_metalearn_lite),
    "torch.func": ("torch", step_torch_func),
    "higher": ("higher", step_higher),
    "learn2learn": ("learn2learn", step_learn2learn),
    "torchmeta": ("torchmeta", step_torchmeta),
}


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def compare() -> list[dict[str, str]]:
    """Run every importable style: the max abs difference of its meta-gradient from metalearn_lite's."""
    tasks = make_tasks()
    reference = step_metalearn_lite(make_model(), tasks)
    rows = []
    for name, (distribution, step) in STEPS.items():
        row = {"library": name, "version": mll.__version__ if name == "metalearn_lite" else _version(distribution)}
        try:
            grads = step(make_model(), tasks)
        except ImportError as err:
            rows.append({**row, "max abs diff of meta-gradient": "-", "status": f"not importable: {err}"})
            continue
        diff = max((a - b).abs().max().item() for a, b in zip(grads, reference, strict=True))
        rows.append({**row, "max abs diff of meta-gradient": f"{diff:.1e}", "status": "ran"})
    return rows


def main() -> None:
    torch.set_num_threads(1)
    print(f"Python {sys.version.split()[0]}, torch {torch.__version__}")
    rows = compare()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


if __name__ == "__main__":
    main()
