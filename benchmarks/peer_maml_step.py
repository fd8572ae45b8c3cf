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

Run, from the repository root, with the peers' interpreter and the package on the path::

    PYTHONPATH=. /work/tools/peers-venv/bin/python benchmarks/peer_maml_step.py

It prints a Markdown table and writes it, with its provenance (:class:`metalearn_lite.results.Run`),
to ``benchmarks/results/peer_maml_step.json``, from which chapter 6 renders its table. The table also
records the torch versions each peer *declares* it needs, read from its installed metadata. It times
nothing: on a network this small, the numbers would measure Python overhead, not the libraries.
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


def _torch_requirement(distribution: str) -> str:
    """The torch versions ``distribution`` declares it needs (``-`` for torch itself and for none)."""
    from importlib.metadata import PackageNotFoundError, requires

    if distribution == "torch":
        return "-"
    try:
        declared = requires(distribution) or []
    except PackageNotFoundError:
        return "not installed"
    found = [r.split(";")[0].replace(" ", "").replace("(", "").replace(")", "") for r in declared
             if r.split(";")[0].strip().lower().startswith("torch") and not r.lower().startswith("torchvision")
             and "extra ==" not in r]
    return ", ".join(found) or "-"


def compare() -> list[dict[str, object]]:
    """Run every importable style: the max abs difference of its meta-gradient from metalearn_lite's."""
    tasks = make_tasks()
    reference = step_metalearn_lite(make_model(), tasks)
    rows: list[dict[str, object]] = []
    for name, (distribution, step) in STEPS.items():
        row = {"library": name, "version": mll.__version__ if name == "metalearn_lite" else _version(distribution),
               "declared torch requirement": "-" if name == "metalearn_lite" else _torch_requirement(distribution)}
        try:
            grads = step(make_model(), tasks)
        except ImportError as err:
            rows.append({**row, "max abs diff of meta-gradient": None, "status": f"not importable: {err}"})
            continue
        diff = max((a - b).abs().max().item() for a, b in zip(grads, reference, strict=True))
        rows.append({**row, "max abs diff of meta-gradient": diff, "status": "ran"})
    return rows


def main() -> None:
    """Print the table and write it, with its provenance, to ``benchmarks/results/peer_maml_step.json``."""
    from metalearn_lite.results import Run

    run = Run(seeds=[0, 1])  # 0: the initial weights (make_model), 1: the tasks (make_tasks)
    torch.set_num_threads(1)
    print(f"Python {sys.version.split()[0]}, torch {torch.__version__}")
    rows = compare()
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        diff = row["max abs diff of meta-gradient"]
        print("| " + " | ".join(f"{v:.1e}" if k == "max abs diff of meta-gradient" and diff is not None else str(v)
                                for k, v in row.items()) + " |")
    ran = {row["library"]: row["max abs diff of meta-gradient"] for row in rows if row["status"] == "ran"}
    table = {"columns": columns, "rows": [[row[c] for c in columns] for row in rows],
             "caption": "One second-order MAML step (1-8-1 tanh network, float64, 3 sinusoid tasks of 5 + 5 "
                        "points, inner step 0.1) in each library's style: the largest absolute difference of "
                        "its meta-gradient from metalearn_lite's. Seeds: 0 for the weights, 1 for the tasks."}
    values = {"max_abs_diff": ran, "largest_peer_diff": max(ran.values()),
              "float64_eps": torch.finfo(torch.float64).eps, "python": sys.version.split()[0],
              "not_run": [row["library"] for row in rows if row["status"] != "ran"]}
    path = run.write("peer_maml_step", {"gradients": table}, values=values)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
