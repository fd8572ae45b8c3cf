"""Benchmark results files: full provenance, tables well formed, and the README's tables rendered
from them (``python -m metalearn_lite.results render benchmarks/README.md`` leaves it unchanged)."""

from __future__ import annotations

import json

import pytest

from metalearn_lite import results


def test_every_results_file_carries_full_provenance(repo_root):
    files = sorted((repo_root / "benchmarks" / "results").glob("*.json"))
    assert files, "benchmarks/results holds the results the book quotes"
    for path in files:
        record = results.load(path.stem)
        assert record["name"] == path.stem
        provenance = record["provenance"]
        assert provenance["command"].startswith("python benchmarks/"), path.name
        assert len(provenance["commit"]) == 40 and provenance["cpu_seconds"] >= 0 and provenance["seeds"]


def test_the_readme_tables_are_the_results_files(repo_root):
    readme = repo_root / "benchmarks" / "README.md"
    assert results.render(readme) == readme.read_text(encoding="utf-8"), (
        "benchmarks/README.md differs from its results files: run "
        "python -m metalearn_lite.results render benchmarks/README.md")


def test_write_load_and_render(tmp_path):
    run = results.Run(seeds=[0, 1])
    table = {"columns": ["learner", "accuracy"], "rows": [["MAML", 0.987], ["ProtoNet", 0.981]], "caption": "Toy."}
    path = run.write("toy", {"main": table}, values={"gap": 0.006}, directory=tmp_path)
    record = results.load("toy", tmp_path)
    assert set(results.REQUIRED) <= set(record["provenance"]) and record["values"] == {"gap": 0.006}
    text = results.markdown_table(record, "main", formats={"accuracy": ".1%"})
    assert "| MAML | 98.7% |" in text and "From `benchmarks/results/toy.json`" in text
    broken = json.loads(path.read_text())
    del broken["provenance"]["commit"]
    (tmp_path / "bad.json").write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="lacks provenance fields"):
        results.load("bad", tmp_path)
    with pytest.raises(FileNotFoundError, match="run the benchmark"):
        results.load("missing", tmp_path)
    with pytest.raises(ValueError, match="every row must have 2 cells"):
        run.write("toy", {"main": {"columns": ["a", "b"], "rows": [[1]]}}, directory=tmp_path)


def test_a_results_block_can_set_the_float_format(tmp_path, monkeypatch):
    run = results.Run(seeds=[0])
    run.write("tiny", {"losses": {"columns": ["method", "loss"], "rows": [["LSTM", 0.000123], ["Adam", 2.5]]}},
              directory=tmp_path)
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    page = tmp_path / "page.md"
    page.write_text("<!-- results: tiny/losses format=.2g -->\nold\n<!-- end results -->\n"
                    "<!-- results: tiny/losses -->\nold\n<!-- end results -->\n", encoding="utf-8")
    text = results.render(page)
    first, second = text.split("<!-- end results -->")[:2]
    assert "| LSTM | 0.00012 |" in first and "| Adam | 2.5 |" in first
    assert "| LSTM | 0.0 |" in second, "without a format, floats keep the default .1f"


def test_provenance_records_the_code_as_it_was_when_the_run_started(tmp_path, monkeypatch):
    # a long benchmark keeps running the code it imported; a commit or an edit made meanwhile is not its code
    state = {"rev-parse": "a" * 40, "status": ""}
    monkeypatch.setattr(results, "_git", lambda command, *args: state[command])
    run = results.Run(seeds=[0])
    state.update({"rev-parse": "b" * 40, "status": " M benchmarks/some_script.py"})
    provenance = results.load(run.write("toy", {}, directory=tmp_path).stem, tmp_path)["provenance"]
    assert provenance["commit"] == "a" * 40 and provenance["dirty"] is False
    state["status"] = " M metalearn_lite/maml.py"
    assert results.Run(seeds=[0]).provenance()["dirty"] is True
