"""Benchmark results files: the numbers of longer runs, with the provenance a reader needs to check them.

Every script under ``benchmarks/`` writes its tables with :meth:`Run.write` to
``benchmarks/results/<name>.json``, together with the exact command, the git commit (and whether the
tree had uncommitted changes), the versions of Python and torch, the device and number of threads,
the seeds, the date, and the CPU and wall seconds of the run. The chapters and
``benchmarks/README.md`` render the tables they quote *from those files* (:func:`markdown_table`,
:func:`show`), so a number quoted in the book is the number the command printed, and
``python -m metalearn_lite.results render benchmarks/README.md`` rewrites the README's tables from
the files (a test checks they agree). The files also ship inside the package, so a chapter opened in
Colab finds them. Introduced in §3.3 (``notebooks/05_gradient_based.ipynb``); every chapter that
quotes a longer run uses it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["REQUIRED", "Run", "load", "markdown_table", "render", "results_dir", "show"]

# What every results file records about the run that made it.
REQUIRED = ("command", "commit", "dirty", "python", "torch", "device", "threads", "seeds", "date",
            "cpu_seconds", "wall_seconds")
_NAME = re.compile(r"^[a-z0-9_]+$")


def results_dir() -> Path:
    """``benchmarks/results`` of the source tree when there is one, else the copy inside the package."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "benchmarks" / "results"
    return checkout if checkout.is_dir() else here / "benchmark_results"


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the child processes it has waited for (a notebook's kernel)."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Run:
    """Times a benchmark (CPU and wall seconds) and writes its results file on :meth:`write`.

    Start it before the work: ``run = Run(seeds=[0, 1, 2])``; then ``run.write(name, tables)``.

    Args:
        seeds: the seeds the run used.
        device: the device it ran on (``"cpu"``, ``"cuda"``).
    """

    def __init__(self, seeds: Sequence[int], device: str = "cpu") -> None:
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
        self.seeds, self.device = list(seeds), str(device)
        self._cpu, self._wall = _cpu_seconds(), time.perf_counter()
        # the code that runs is the code at the start: a commit or an edit made while it runs does not count
        self._commit = _git("rev-parse", "HEAD") or "unknown"
        self._dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))

    def provenance(self) -> dict[str, Any]:
        """The :data:`REQUIRED` fields for a run ending now (commit and ``dirty`` as they were at its start)."""
        import torch

        script = Path(sys.argv[0])
        try:
            script = script.resolve().relative_to(Path.cwd())
        except ValueError:
            pass
        return {
            "command": shlex.join(["python", str(script), *sys.argv[1:]]),
            "commit": self._commit,
            "dirty": self._dirty,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "device": self.device,
            "threads": torch.get_num_threads(),
            "seeds": self.seeds,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cpu_seconds": round(_cpu_seconds() - self._cpu, 1),
            "wall_seconds": round(time.perf_counter() - self._wall, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            # the vector instructions torch's own kernels use (AVX2, AVX512, ...): float results differ between them
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        }

    def write(self, name: str, tables: dict[str, dict[str, Any]], values: dict[str, Any] | None = None,
              directory: Path | None = None) -> Path:
        """Write ``<directory>/<name>.json`` (default :func:`results_dir`) and return its path.

        Args:
            name: the file's name (lower case, digits, ``_``).
            tables: ``{table_name: {"columns": [...], "rows": [[...], ...], "caption": "..."}}``.
            values: named numbers the chapters quote or derive margins from (e.g. seed spreads).
        """
        if not _NAME.match(name):
            raise ValueError(f"name must be lower case letters, digits and _, got {name!r}")
        for key, table in tables.items():
            _check_table(key, table)
        record = {"name": name, "provenance": self.provenance(), "tables": tables, "values": values or {}}
        path = (directory or results_dir()) / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def _check_table(name: str, table: object) -> None:
    if not isinstance(table, dict) or not isinstance(table.get("columns"), list) or not isinstance(
            table.get("rows"), list):
        raise ValueError(f"table {name!r} must be a dict with 'columns' and 'rows' lists")
    width = len(table["columns"])
    for row in table["rows"]:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"table {name!r}: every row must have {width} cells, got {row!r}")


def load(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The results file ``name`` (see :func:`write`), checked for complete provenance.

    Raises:
        FileNotFoundError: no such file; the message names the benchmark command to run.
        ValueError: the file lacks a provenance field or a table is malformed.
    """
    path = (directory or results_dir()) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results file {path}; run the benchmark that writes it (see benchmarks/README.md)")
    record = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED if key not in record.get("provenance", {})]
    if missing:
        raise ValueError(f"{path} lacks provenance fields {missing}")
    for key, table in record.get("tables", {}).items():
        _check_table(key, table)
    return record


def _cell(value: Any, spec: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and spec:
        return format(value, spec)
    return str(value)


def markdown_table(record: dict[str, Any], table: str, formats: dict[str, str] | None = None) -> str:
    """A table of ``record`` as Markdown, followed by a line naming the command, commit and date.

    Args:
        formats: a format spec per column name for float cells (default ``".1f"``).
    """
    spec = record["tables"][table]
    formats = formats or {}
    lines = ["| " + " | ".join(spec["columns"]) + " |", "|" + "---|" * len(spec["columns"])]
    for row in spec["rows"]:
        cells = [_cell(v, formats.get(c, ".1f")) for c, v in zip(spec["columns"], row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    p = record["provenance"]
    where = f"{p['device']}, {p['threads']} thread{'s' if p['threads'] != 1 else ''}, torch {p['torch']}"
    dirty = " with uncommitted changes" if p["dirty"] else ""
    caption = f"{spec['caption']} " if spec.get("caption") else ""
    lines.append("")
    lines.append(f"{caption}From `benchmarks/results/{record['name']}.json`: `{p['command']}` at commit "
                 f"{p['commit'][:10]}{dirty}, {p['date'][:10]}, {where}, seeds {p['seeds']}, "
                 f"{p['cpu_seconds'] / 60:.0f} CPU-minutes.")
    return "\n".join(lines)


def show(name: str, table: str, formats: dict[str, str] | None = None) -> None:
    """Display :func:`markdown_table` of results file ``name`` in a notebook (plain text elsewhere)."""
    text = markdown_table(load(name), table, formats)
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython comes with every notebook
        print(text)
        return
    display(Markdown(text))


_BLOCK = re.compile(r"(<!-- results: (?P<name>[a-z0-9_]+)/(?P<table>[a-z0-9_]+)(?: format=(?P<format>[^ ]+))? -->\n)"
                    r"(?P<body>.*?)(?P<end><!-- end results -->)", re.S)


def _rendered(match: re.Match) -> str:
    record, table = load(match.group("name")), match.group("table")
    spec = match.group("format")  # one format for every float column, e.g. ".2g" for losses spanning decades
    formats = dict.fromkeys(record["tables"][table]["columns"], spec) if spec else None
    return match.group(1) + markdown_table(record, table, formats) + "\n" + match.group("end")


def render(path: Path) -> str:
    """The text of a Markdown file with every ``<!-- results: name/table -->`` block re-rendered.

    ``<!-- results: name/table format=.2g -->`` formats every float cell of that block with ``.2g``
    (the default is ``.1f``).
    """
    text = Path(path).read_text(encoding="utf-8")
    return _BLOCK.sub(_rendered, text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m metalearn_lite.results render FILE...``: rewrite the files' results blocks in place."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "render":
        print("usage: python -m metalearn_lite.results render FILE.md [FILE.md ...]", file=sys.stderr)
        return 2
    for name in args[1:]:
        Path(name).write_text(render(Path(name)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
