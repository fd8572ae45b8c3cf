"""Count how the public API answers bad input: clear errors, obscure errors, silent acceptance.

Runs every probe of ``tests/probes.py`` (a valid call of each public function or class, with one
argument replaced by each bad value of its kind: bools for ints, NaN and infinities, zero and
negative counts, strings, lists for tensors ...) and classifies the outcome:

* clear: a ``TypeError`` or ``ValueError`` whose message names the argument;
* obscure: any other exception, or one whose message does not name the argument;
* silent: no exception at all.

    python benchmarks/bad_input_probe.py

Writes ``benchmarks/results/bad_input_probe.json`` (counts per kind of argument, and every probe
that is not clear). ``tests/test_bad_input.py`` asserts every probe is clear, with values drawn by
Hypothesis.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from probes import PROBES, outcome, probe_calls  # noqa: E402

from metalearn_lite.results import Run  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    run = Run(seeds=[0])
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    unclear = []
    for probe, param, value in probe_calls():
        result, message = outcome(probe, param, value)
        by_kind[probe.params[param]][result] += 1
        if result != "clear":
            unclear.append([probe.name, param, repr(value), result, message[:160]])
    totals = collections.Counter()
    rows = []
    for kind, counts in sorted(by_kind.items()):
        totals.update(counts)
        rows.append([kind, sum(counts.values()), counts["clear"], counts["obscure"], counts["silent"]])
    rows.append(["all", sum(totals.values()), totals["clear"], totals["obscure"], totals["silent"]])
    for row in rows:
        print(f"{row[0]:14s} probes {row[1]:4d}  clear {row[2]:4d}  obscure {row[3]:3d}  silent {row[4]:3d}")
    for line in unclear:
        print("  not clear:", *line)
    caption = f"{len(PROBES)} public functions and classes; one argument at a time replaced by a bad value."
    columns = ["kind of argument", "probes", "clear error", "obscure error", "silent"]
    path = run.write("bad_input_probe", {"counts": {"columns": columns, "rows": rows, "caption": caption}},
                     values={"unclear": unclear, "callables": len(PROBES)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
