"""What the package's safety checks cost: a MAML meta-step with and without them.

Every meta-step of ``MAML.meta_loss`` validates its tasks (``checks.check_tasks``, dtype and device
agreement with the model) and refuses non-finite inner, query and training losses before the
optimiser moves a weight (``checks.raise_if_non_finite``, ``checks.finite_loss``). This script times
the sinusoid workload W1 of ``maml_step.py`` (the MLP 1-40-40-1, 25 tasks, K = 10; the cheapest
step, where a fixed overhead shows most) three ways, interleaved round by round in one process, one
thread, CPU time:

* ``all checks``: the package as it is;
* ``no non-finite guards``: the two non-finite checks replaced by no-ops;
* ``no checks``: every check of a meta-step replaced by a no-op.

    python benchmarks/guard_cost.py --repeats 200

Writes ``benchmarks/results/guard_cost.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import metalearn_lite as mll  # noqa: E402
from metalearn_lite import checks  # noqa: E402
from metalearn_lite.data import sinusoid  # noqa: E402
from metalearn_lite.results import Run  # noqa: E402
from metalearn_lite.training import optimizer_step  # noqa: E402


@contextlib.contextmanager
def disabled(names: tuple[str, ...]):
    """Replace ``checks.<name>`` by a pass-through for the duration (``check_tasks`` returns its input)."""
    saved = {name: getattr(checks, name) for name in names}
    try:
        for name in names:
            setattr(checks, name, (lambda tasks, *a, **k: list(tasks)) if name == "check_tasks"
                    else (lambda *a, **k: a[0] if a else None))
        yield
    finally:
        for name, function in saved.items():
            setattr(checks, name, function)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed rounds (each runs every variant once)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = Run(seeds=[0])
    mll.seed_everything(0)
    tasks = sinusoid.sample_tasks(25, 10, generator=torch.Generator().manual_seed(0))
    maml = mll.MAML(mll.nets.MLP(), F.mse_loss, inner_lr=0.01)
    optimizer = torch.optim.Adam(maml.parameters(), lr=1e-3)
    variants = {
        "all checks": (),
        "no non-finite guards": ("raise_if_non_finite", "finite_loss"),
        "no checks": ("raise_if_non_finite", "finite_loss", "check_tasks", "matches_model", "tensor", "labels",
                      "support_set"),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(args.repeats + 10):  # the first 10 rounds warm up
        for name, names in variants.items():
            with disabled(names):
                start = time.process_time()
                optimizer_step(optimizer, maml.meta_loss(tasks), "W1 meta-loss")
                elapsed = 1000 * (time.process_time() - start)
            if round_ >= 10:
                times[name].append(elapsed)
    base = statistics.median(times["no checks"])
    rows = [[name, round(statistics.median(t), 3), round(min(t), 3),
             f"{100 * (statistics.median(t) / base - 1):+.1f} %"] for name, t in times.items()]
    for row in rows:
        print(f"{row[0]:22s} median {row[1]:.3f} ms  min {row[2]:.3f} ms  vs no checks {row[3]}")
    columns = ["variant", "ms / meta-step (median)", "min", "vs no checks"]
    caption = ("W1 (MLP 1-40-40-1, 25 tasks, K = 10, second-order MAML on the vmap path, Adam step included), "
               f"CPU time, one thread, median of {args.repeats} interleaved rounds.")
    path = run.write("guard_cost", {"cost": {"columns": columns, "rows": rows, "caption": caption}},
                     values={name: statistics.median(t) for name, t in times.items()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
