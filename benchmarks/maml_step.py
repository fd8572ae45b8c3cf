"""Milliseconds per second-order MAML meta-step: metalearn-lite's paths against learn2learn and higher.

Workloads (one inner step, second order, float32):
  W1     sinusoid MLP 1-40-40-1, 25 tasks, K = 10 support and 10 query points, inner_lr 0.01
  W2     ConvNet4 (64 channels) on 28x28, 5-way 1-shot, 15 queries per class, 32 tasks, inner_lr 0.4
         (the MAML paper's Omniglot setup: keep it for GPU runs, --device cuda)
  W2cpu  a CPU-sized Omniglot setup: 32 channels, 5 queries per class, 8 tasks

Every contender runs on the same weights and tasks in one process, with one thread, timed in CPU
time (``time.process_time``), interleaved round by round after a warm-up, because the machine may
be shared and wall time lies then. For each contender the table also gives the largest difference
between its meta-gradient and that of the package's default path (the one ``MAML.meta_loss``
picks). Peak memory (W2) is measured in a fresh subprocess per contender: the peak resident set
size during the step (or the peak CUDA allocation); the W2 vmap path runs only there (it needs
several GB on a CPU). With --device cuda, times are synchronised wall times.

learn2learn and higher are optional peers, never dependencies: run the script with an
interpreter where they are importable to get their rows (see ``benchmarks/README.md``); without
them the package rows are printed alone.

    PYTHONPATH=. python benchmarks/maml_step.py                 # both workloads, 5 rounds
    PYTHONPATH=. python benchmarks/maml_step.py --workloads W1 --repeats 20
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from metalearn_lite import MAML, Reptile, Task
from metalearn_lite.data import sinusoid
from metalearn_lite.nets import MLP, ConvNet4
from metalearn_lite.results import Run

Step = Callable[[], list[torch.Tensor]]


# --- workloads --------------------------------------------------------------------------------


WORKLOADS = ("W1", "W2", "W2cpu")


def workload(name: str, device: torch.device):
    """``(model, loss_fn, inner_lr, tasks)`` for W1, W2 or W2cpu, seeded, on ``device``.

    W2cpu is a CPU-sized Omniglot setup for the book: 32 channels, 8 tasks, 5 queries per class.
    """
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    if name == "W1":
        tasks = sinusoid.sample_tasks(25, 10, generator=generator)
        return MLP().to(device), F.mse_loss, 0.01, [t.to(device) for t in tasks]
    n_way, k_shot, n_query, n_tasks, channels = (5, 1, 15, 32, 64) if name == "W2" else (5, 1, 5, 8, 32)
    tasks = [
        Task(
            torch.rand(n_way * k_shot, 1, 28, 28, generator=generator),
            torch.arange(n_way).repeat_interleave(k_shot),
            torch.rand(n_way * n_query, 1, 28, 28, generator=generator),
            torch.arange(n_way).repeat_interleave(n_query),
        )
        for _ in range(n_tasks)
    ]
    model = ConvNet4(n_way=n_way, hidden_channels=channels).to(device)
    return model, F.cross_entropy, 0.4, [t.to(device) for t in tasks]


def timed(step: Callable[[], object], device: torch.device) -> float:
    """Milliseconds of one call: CPU time on a CPU, synchronised wall time on a GPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        start = time.perf_counter()
        step()
        torch.cuda.synchronize(device)
        return 1000 * (time.perf_counter() - start)
    start = time.process_time()
    step()
    return 1000 * (time.process_time() - start)


# --- peers (optional) -------------------------------------------------------------------------


def import_learn2learn_maml():
    """learn2learn's MAML class, importing only ``learn2learn.algorithms.maml``.

    The package's ``__init__`` imports torchvision (and much else), which does not import beside a
    CPU torch 2.13; the MAML module itself needs only torch and ``learn2learn.utils``.
    """
    if "learn2learn.algorithms.maml" in sys.modules:
        return sys.modules["learn2learn.algorithms.maml"].MAML
    spec = importlib.util.find_spec("learn2learn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("learn2learn is not installed")
    root = spec.submodule_search_locations[0]
    for name, path in (("learn2learn", root), ("learn2learn.algorithms", f"{root}/algorithms")):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
    return importlib.import_module("learn2learn.algorithms.maml").MAML


def textbook_convnet(net: ConvNet4) -> nn.Module:
    """The paper's block as people write it with torch.nn (conv, BatchNorm2d, ReLU, MaxPool2d, NCHW),
    holding the same weights as ``net``: what the peers run on W2."""
    layers: list[nn.Module] = []
    for block in net.features.blocks:
        channels = block.conv.out_channels
        layers += [nn.Conv2d(block.conv.in_channels, channels, 3, padding=1),
                   nn.BatchNorm2d(channels, track_running_stats=False), nn.ReLU(), nn.MaxPool2d(2)]
    reference = nn.Sequential(*layers, nn.Flatten(), nn.Linear(net.head.in_features, net.head.out_features))
    reference = reference.to(device=net.head.weight.device, dtype=net.head.weight.dtype)
    with torch.no_grad():
        for mine, theirs in zip(net.parameters(), reference.parameters(), strict=True):
            theirs.copy_(mine)
    return reference


def contenders(model, loss_fn, inner_lr, tasks) -> dict[str, Step]:
    """name -> a function that runs one meta-step and returns the meta-gradient.

    The peers run the textbook conv net (same weights) on conv workloads, and also the package's
    ConvNet4, so that the table separates what the algorithm and what the network contribute.
    """
    n = len(tasks)
    conv = isinstance(model, ConvNet4)
    textbook = textbook_convnet(model) if conv else model

    def grads_of(module) -> list[torch.Tensor]:
        return [p.grad.detach().clone() for p in module.parameters()]

    def package(path: str, first_order: bool = False) -> Step:
        maml = MAML(model, loss_fn, inner_lr, first_order=first_order, path=path)

        def step():
            model.zero_grad(set_to_none=True)
            maml.meta_loss(tasks).backward()
            return grads_of(model)

        return step

    default = MAML(model, loss_fn, inner_lr).path_for(tasks)
    out: dict[str, Step] = {
        f"metalearn-lite loop{' (default)' if default == 'loop' else ''}": package("loop"),
        f"metalearn-lite vmap{' (default)' if default == 'vmap' else ''}": package("vmap"),
    }
    nets = {"textbook net": textbook, "ConvNet4": model} if conv else {"": model}
    try:
        l2l_class = import_learn2learn_maml()

        def learn2learn(net: nn.Module) -> Step:
            l2l_maml = l2l_class(net, lr=inner_lr, first_order=False)

            def step():
                net.zero_grad(set_to_none=True)
                for task in tasks:
                    learner = l2l_maml.clone()
                    learner.adapt(loss_fn(learner(task.x_support), task.y_support))
                    (loss_fn(learner(task.x_query), task.y_query) / n).backward()
                return grads_of(net)

            return step

        for label, net in nets.items():
            out[f"learn2learn 0.2.0 MAML{', ' + label if label else ''}"] = learn2learn(net)
    except ImportError as error:
        print(f"learn2learn: not importable here ({error}); its rows are left out", file=sys.stderr)
    try:
        higher = importlib.import_module("higher")
        inner_opt = torch.optim.SGD(textbook.parameters(), lr=inner_lr)

        def higher_step():
            textbook.zero_grad(set_to_none=True)
            for task in tasks:
                with higher.innerloop_ctx(textbook, inner_opt, copy_initial_weights=False) as (fmodel, diffopt):
                    diffopt.step(loss_fn(fmodel(task.x_support), task.y_support))
                    (loss_fn(fmodel(task.x_query), task.y_query) / n).backward()
            return grads_of(textbook)

        out[f"higher 0.2.1 innerloop_ctx{', textbook net' if conv else ''}"] = higher_step
    except ImportError as error:
        print(f"higher: not importable here ({error}); its row is left out", file=sys.stderr)
    out[f"metalearn-lite first-order ({default})"] = package(default, first_order=True)
    reptile_model = copy.deepcopy(model)
    reptile = Reptile(reptile_model, loss_fn, inner_lr, inner_steps=1, outer_lr=0.1)

    def reptile_step():
        reptile.meta_step(tasks)
        return []

    out["metalearn-lite Reptile (1 inner step)"] = reptile_step
    return out


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024  # kB


def reset_peak_rss() -> float:
    """Reset the kernel's peak-RSS counter (Linux) and return the current RSS in MB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak RSS in MB since the last :func:`reset_peak_rss` (the process's peak if never reset)."""
    try:
        return _status_mb("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- measurement ------------------------------------------------------------------------------


def measure(name: str, repeats: int, skip: set[str], device: torch.device) -> list[dict]:
    model, loss_fn, inner_lr, tasks = workload(name, device)
    steps = {k: v for k, v in contenders(model, loss_fn, inner_lr, tasks).items() if not any(s in k for s in skip)}
    grads = {k: step() for k, step in steps.items()}  # warm-up, and the gradients to compare
    reference = next(g for k, g in grads.items() if "(default)" in k)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for k, step in steps.items():  # interleaved: each round runs every contender once
            times[k].append(timed(step, device))
    exact = agreement(name, device)
    rows = []
    for k, g in grads.items():
        comparable = bool(g) and "first-order" not in k
        rows.append({"workload": name, "contender": k, "ms": statistics.median(times[k]), "ms_min": min(times[k]),
                     "grad_diff": max_diff(g, reference) if comparable else None,
                     "grad_diff64": exact.get(k) if comparable else None})
    return rows


def max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def agreement(name: str, device: torch.device, max_tasks: int = 4) -> dict[str, float]:
    """Largest meta-gradient difference to the default path in float64, on the first tasks.

    In float32 two correct implementations that use different kernels (memory order, batching)
    differ by their rounding error, which second-order MAML through batch norm amplifies to
    about 1e-3 on W2; float64 shows whether they compute the same function.
    """
    model, loss_fn, inner_lr, tasks = workload(name, device)
    model = model.double()
    tasks = [Task(*(t.double() if t.is_floating_point() else t for t in task)) for task in tasks[:max_tasks]]
    grads = {k: step() for k, step in contenders(model, loss_fn, inner_lr, tasks).items()}
    reference = next(g for k, g in grads.items() if "(default)" in k)
    return {k: max_diff(g, reference) for k, g in grads.items() if g}


def child(name: str, contender: str, repeats: int, device: torch.device) -> None:
    """Run one contender alone (fresh process): median ms and peak memory, as JSON on stdout."""
    torch.set_num_threads(1)
    model, loss_fn, inner_lr, tasks = workload(name, device)
    path = "vmap" if "vmap" in contender else "loop"
    maml = MAML(model, loss_fn, inner_lr, path=path)
    if contender.startswith("metalearn-lite"):
        def step():
            model.zero_grad(set_to_none=True)
            maml.meta_loss(tasks).backward()
    else:
        step = contenders(model, loss_fn, inner_lr, tasks)[contender]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2**20
    else:
        base = reset_peak_rss()
    times = [timed(step, device) for _ in range(repeats)]
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else peak_rss_mb()
    print(json.dumps({"ms": statistics.median(times), "ms_min": min(times), "peak_mb": peak, "base_mb": base}))


def in_subprocess(name: str, contender: str, repeats: int, device: torch.device) -> dict:
    command = [sys.executable, __file__, "--child", name, contender, "--repeats", str(repeats), "--device", str(device)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{name} {contender} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--device", default="cpu", help="cpu (CPU time, 1 thread) or cuda (synchronised wall time)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up")
    parser.add_argument("--no-memory", action="store_true", help="skip the W2 subprocesses (memory, vmap)")
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.child:
        child(*args.child, args.repeats, device)
        return
    torch.set_num_threads(1)
    run = Run(seeds=[0], device=str(device))
    clock = "synchronised wall time on " + torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU time"
    print(f"torch {torch.__version__}, 1 thread, {clock} per meta-step (median of {args.repeats} interleaved rounds)")
    rows = []
    for name in args.workloads:
        skip = {"vmap"} if name == "W2" else set()  # W2 vmap needs GBs: measured alone below
        rows += measure(name, args.repeats, skip, device)
        if name == "W2" and not args.no_memory:
            for row in [r for r in rows if r["workload"] == "W2" and "first-order" not in r["contender"]
                        and "Reptile" not in r["contender"] and "ConvNet4" not in r["contender"]]:
                alone = in_subprocess("W2", row["contender"], 1, device)
                row["peak_mb"], row["base_mb"] = alone["peak_mb"], alone["base_mb"]
            alone = in_subprocess("W2", "metalearn-lite vmap", 1, device)
            rows.append({"workload": "W2", "contender": "metalearn-lite vmap (alone, 1 run)", "ms": alone["ms"],
                         "ms_min": alone["ms"], "grad_diff": None, "peak_mb": alone["peak_mb"],
                         "base_mb": alone["base_mb"]})
    columns = ["workload", "contender", "ms / meta-step (median)", "min", "speed-up over learn2learn",
               "max abs meta-grad diff vs default: float32", "float64 (4 tasks)", "peak memory in MB (before the step)"]
    table = []
    for row in rows:
        peer = next((r for r in rows if r["workload"] == row["workload"] and r["contender"].startswith("learn2learn")
                     and "ConvNet4" not in r["contender"]), None)
        speedup = f"{peer['ms'] / row['ms']:.2f}x" if peer else "-"
        diff = "-" if row["grad_diff"] is None else f"{row['grad_diff']:.1e}"
        diff64 = "-" if row.get("grad_diff64") is None else f"{row['grad_diff64']:.1e}"
        peak = f"{row['peak_mb']:.0f} ({row['base_mb']:.0f})" if "peak_mb" in row else "-"
        table.append([row["workload"], row["contender"], round(row["ms"], 1), round(row["ms_min"], 1), speedup, diff,
                      diff64, peak])
    print()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for cells in table:
        print("| " + " | ".join(str(c) for c in cells) + " |")
    caption = (f"Milliseconds of {clock} per second-order meta-step (one inner step), median of {args.repeats} "
               "interleaved rounds after a warm-up; speed-up is learn2learn's time divided by the row's.")
    path = run.write("maml_step", {"steps": {"columns": columns, "rows": table, "caption": caption}},
                     values={"rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
