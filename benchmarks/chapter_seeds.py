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
    python benchmarks/chapter_seeds.py notebooks/03_metric_learning.ipynb --merge   # add this machine's runs

Float results differ between CPUs (torch picks AVX2 or AVX-512 kernels, and its BLAS other paths on
other processors), and a chaotic training run turns those rounding differences into different
results, as another seed would. ``--merge`` therefore adds this machine's runs to the file's
earlier ones instead of replacing them, and the file lists every run's seed, CPU and kernel set
(``runs``), so that the margins cover the machines CI may run on. ``ATEN_CPU_CAPABILITY=avx2``
makes an AVX-512 machine use torch's AVX2 kernels.

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
    # a failing assert must not stop the run: its margin is what these runs are for
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                print(f"{path.name} seed {seed}: cell {cell.get('id')} failed: {output['ename']}: "
                      f"{output['evalue'][:200]}", flush=True)
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
    parser.add_argument("--merge", action="store_true",
                        help="add these runs to the file's earlier ones (another machine) instead of replacing them")
    args = parser.parse_args()
    for path in args.notebooks:
        run = Run(seeds=args.seeds)
        per_seed, wall = {}, {}
        for seed in args.seeds:
            per_seed[seed], wall[seed] = run_once(path, seed, args.timeout)
            print(f"{path.name} seed {seed}: {len(per_seed[seed])} glued values, {wall[seed]:.0f} s", flush=True)
        provenance = run.provenance()
        runs = [{"seed": seed, "machine": provenance["machine"], "cpu_capability": provenance["cpu_capability"],
                 "commit": provenance["commit"]} for seed in args.seeds]
        earlier = load_earlier(path) if args.merge else None
        if earlier is not None:
            runs = earlier["runs"] + runs
            per_seed = {i: values for i, values in enumerate([*earlier["per_run"], *per_seed.values()])}
        summary = summarise(per_seed)
        rows = [[name, s["mean"], s["std"], s["min"], s["max"]] for name, s in summary.items()]
        over = ", ".join(f"seed {r['seed']} ({r['cpu_capability']})" for r in runs)
        table = {"columns": ["glued value", "mean", "std", "min", "max"], "rows": rows,
                 "caption": f"Spread of {path.name}'s glued numbers over {len(runs)} runs: {over}."}
        out = run.write(f"seeds_{path.stem}", {"spread": table}, values=summary)
        record = json.loads(out.read_text(encoding="utf-8"))
        record["runs"] = runs
        if earlier is not None:
            record["provenance"]["merged_with"] = earlier["provenance"]
        out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")


def load_earlier(path: Path) -> dict | None:
    """The runs already in ``seeds_<notebook>.json``: per run, its glued values and where it ran."""
    file = Path(__file__).resolve().parent / "results" / f"seeds_{path.stem}.json"
    if not file.exists():
        return None
    record = json.loads(file.read_text(encoding="utf-8"))
    values = record["values"]
    count = max(len(v["values"]) for v in values.values())
    runs = record.get("runs") or [{"seed": seed, "machine": record["provenance"].get("machine", "not recorded"),
                                   "cpu_capability": "not recorded", "commit": record["provenance"]["commit"]}
                                  for seed in record["provenance"]["seeds"]]
    if len(runs) != count:
        raise SystemExit(f"{file}: {count} values per name but {len(runs)} runs recorded")
    per_run = [{name: v["values"][i] for name, v in values.items() if len(v["values"]) == count} for i in range(count)]
    return {"runs": runs, "per_run": per_run, "provenance": record["provenance"]}


if __name__ == "__main__":
    main()
