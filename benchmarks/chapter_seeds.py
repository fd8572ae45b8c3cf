"""Run a chapter with several seeds and record how much each of its glued numbers moves.

A chapter's comparative claims are asserts ("MAML's error after one step is below the pretrained
network's by at least m"). Their margins must come from measured run-to-run spread, not from a
guess. This script executes a chapter notebook once per seed, replacing the seed of its
``mll.seed_everything(0)`` call (every other seed in the notebook, such as the one of its fixed
test episodes, stays as it is), collects every number the chapter glues into its prose
(``mll.glue``), and writes ``benchmarks/results/seeds_<notebook>.json`` with, for each glued name,
the value of every seed, their mean, standard deviation, minimum and maximum. The chapter's asserts
then cite that file in a comment beside each margin.

    python benchmarks/chapter_seeds.py notebooks/05_gradient_based.ipynb --seeds 0 1 2
    python benchmarks/chapter_seeds.py notebooks/*.ipynb --seeds 0 1 2      # every chapter

Needs the ``dev`` extra (nbclient, ipykernel) and, for the Omniglot chapters, ``METALEARN_DATA``.
Each run takes as long as the chapter (one to four minutes on a laptop CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metalearn_lite.results import Run  # noqa: E402

SEED_CALL = re.compile(r"seed_everything\(\s*0\s*\)")


def glued_values(nb: nbformat.NotebookNode) -> dict[str, object]:
    """Every value the executed notebook glued: ``{name: value}`` (numbers as numbers)."""
    values: dict[str, object] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if not scrapbook:
                continue
            prefix = scrapbook.get("mime_prefix", "")
            text = output["data"].get(prefix + "text/plain", "")
            try:
                values[scrapbook["name"]] = json.loads(text)
            except json.JSONDecodeError:
                values[scrapbook["name"]] = text
    return values


def run_once(path: Path, seed: int, timeout: int) -> tuple[dict[str, object], float]:
    """Execute the notebook with ``seed_everything(seed)``; its glued values and wall seconds."""
    nb = nbformat.read(path, as_version=4)
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and SEED_CALL.search(cell.source):
            cell.source, n = SEED_CALL.subn(f"seed_everything({seed})", cell.source)
            replaced += n
    if replaced != 1:
        raise SystemExit(f"{path}: expected one seed_everything(0) call, found {replaced}")
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    return glued_values(nb), time.perf_counter() - start


def summarise(per_seed: dict[int, dict[str, object]]) -> dict[str, dict[str, object]]:
    """For every numeric glued name: the value per seed, mean, std (unbiased), min and max."""
    names = sorted(set().union(*(v.keys() for v in per_seed.values())))
    summary = {}
    for name in names:
        values = [per_seed[s].get(name) for s in per_seed]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            continue
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        summary[name] = {"values": values, "mean": mean, "std": std, "min": min(values), "max": max(values)}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        run = Run(seeds=args.seeds)
        per_seed, wall = {}, {}
        for seed in args.seeds:
            per_seed[seed], wall[seed] = run_once(path, seed, args.timeout)
            print(f"{path.name} seed {seed}: {len(per_seed[seed])} glued values, {wall[seed]:.0f} s", flush=True)
        summary = summarise(per_seed)
        rows = [[name, s["mean"], s["std"], s["min"], s["max"]] for name, s in summary.items()]
        table = {"columns": ["glued value", "mean", "std", "min", "max"], "rows": rows,
                 "caption": f"Spread of {path.name}'s glued numbers over seeds {args.seeds}."}
        out = run.write(f"seeds_{path.stem}", {"spread": table}, values=summary)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
