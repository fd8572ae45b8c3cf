"""The GitHub Actions workflows, validated offline at the schema level.

CI (``ci.yml``) runs ``make test`` through ``.ci/run`` on pushes and pull requests; the Pages
workflow (``pages.yml``) builds the book with ``make book`` on pushes to main and deploys
``_build/html`` with ``actions/upload-pages-artifact`` and ``actions/deploy-pages``. The checks
below read the YAML, check its structure, and check that every ``make`` target a workflow or
``.ci/run`` calls exists in the Makefile. Each check is shown to reject a broken workflow.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@v\d+(\.\d+){0,2}$")
_MAKE = re.compile(r"(?:^\s*|[;&|(`]\s*)make((?:\s+[\w.=-]+)+)")


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in workflow:  # YAML 1.1 reads the key `on` as True
        workflow["on"] = workflow.pop(True)
    return workflow


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {t for line in re.findall(r"^([\w.$() /-]+):(?!=)", text, re.M) for t in line.split()}


def make_targets_called(script: str) -> list[str]:
    """The targets of every ``make ...`` command in a shell script or in Markdown code."""
    targets = []
    for line in script.splitlines():
        for m in _MAKE.finditer(line.split("#", 1)[0]):
            targets += [t for t in m.group(1).split() if not t.startswith("-") and "=" not in t]
    return targets


def triggers(workflow: dict) -> dict:
    on = workflow.get("on")
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return dict.fromkeys(on, {})
    return {k: v or {} for k, v in (on or {}).items()}


def workflow_problems(workflow: dict, targets: set[str]) -> list[str]:
    """Schema-level problems of a workflow: triggers, jobs, steps, actions, make targets."""
    problems = []
    if not workflow.get("name"):
        problems.append("no name")
    if not triggers(workflow):
        problems.append("no trigger ('on')")
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return problems + ["no jobs"]
    for job_id, job in jobs.items():
        if not job.get("runs-on"):
            problems.append(f"job {job_id}: no runs-on")
        for need in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []):
            if need not in jobs:
                problems.append(f"job {job_id}: needs unknown job {need!r}")
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            problems.append(f"job {job_id}: no steps")
            continue
        for i, step in enumerate(steps):
            where = f"job {job_id} step {i + 1}"
            if ("uses" in step) == ("run" in step):
                problems.append(f"{where}: needs exactly one of 'uses' and 'run'")
            if "uses" in step and not _ACTION.match(step["uses"]):
                problems.append(f"{where}: action {step['uses']!r} is not OWNER/REPO@vN")
            for target in make_targets_called(step.get("run", "")):
                if target not in targets:
                    problems.append(f"{where}: make {target}: no such target in the Makefile")
        runs_commands = any("run" in s for s in steps)
        if runs_commands and not str(steps[0].get("uses", "")).startswith("actions/checkout@"):
            problems.append(f"job {job_id}: runs commands but does not start with actions/checkout")
    return problems


def _step(job: dict, action: str) -> dict | None:
    return next((s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action + "@")), None)


def ci_problems(workflow: dict) -> list[str]:
    problems = []
    on = triggers(workflow)
    if "main" not in on.get("push", {}).get("branches", []):
        problems.append("CI must run on pushes to main")
    if "pull_request" not in on:
        problems.append("CI must run on pull requests")
    runs = [s.get("run", "") for job in workflow.get("jobs", {}).values() for s in job.get("steps", [])]
    if not any("bash .ci/run" in r or "make test" in r for r in runs):
        problems.append("CI must run .ci/run (make test)")
    if not any(_step(job, "actions/setup-python") for job in workflow.get("jobs", {}).values()):
        problems.append("CI must set up Python")
    return problems


def pages_problems(workflow: dict) -> list[str]:
    problems = []
    if "main" not in triggers(workflow).get("push", {}).get("branches", []):
        problems.append("the book must be deployed on pushes to main")
    permissions = workflow.get("permissions", {})
    if permissions.get("pages") != "write" or permissions.get("id-token") != "write":
        problems.append("Pages deployment needs permissions pages: write and id-token: write")
    jobs = workflow.get("jobs", {})
    build = next((j for j in jobs.values() if _step(j, "actions/upload-pages-artifact")), None)
    deploy_id, deploy = next(((i, j) for i, j in jobs.items() if _step(j, "actions/deploy-pages")), (None, None))
    if build is None:
        problems.append("no job uploads the site with actions/upload-pages-artifact")
    else:
        if _step(build, "actions/upload-pages-artifact").get("with", {}).get("path") != "_build/html":
            problems.append("the uploaded artifact must be _build/html")
        if not any("book" in make_targets_called(s.get("run", "")) for s in build["steps"]):
            problems.append("the build job must run make book")
    if deploy is None:
        problems.append("no job deploys with actions/deploy-pages")
    else:
        build_id = next((i for i, j in jobs.items() if j is build), None)
        needs = [deploy.get("needs")] if isinstance(deploy.get("needs"), str) else deploy.get("needs", [])
        if build_id not in needs:
            problems.append(f"job {deploy_id} must need the build job")
        if deploy.get("environment", {}).get("name") != "github-pages":
            problems.append(f"job {deploy_id} must deploy to the github-pages environment")
    return problems


# --- the repository's workflows ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflow_is_well_formed(name):
    assert workflow_problems(load(name), makefile_targets()) == []


def test_ci_runs_make_test_on_pushes_and_pull_requests():
    assert ci_problems(load("ci.yml")) == []


def test_pages_builds_the_book_and_deploys_it():
    assert pages_problems(load("pages.yml")) == []


def test_every_make_target_that_ci_and_the_readme_call_exists():
    targets = makefile_targets()
    called = make_targets_called((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert "test" in called
    readme = ROOT / "README.md"
    called += make_targets_called(readme.read_text(encoding="utf-8"))
    assert {"book", "test", "lab", "clean"} <= set(called) <= targets
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_rule = re.search(r"^test:(.*)$", makefile, re.M).group(1).split()
    assert test_rule == ["lint", "unit", "notebooks", "colab", "book-check", "browser"], (
        "the Colab edition is written from the notebooks just run; the browser step runs last")
    assert set(test_rule) <= targets


def test_the_pages_workflow_publishes_the_colab_edition():
    steps = [s for job in load("pages.yml")["jobs"].values() for s in job.get("steps", [])]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert make_targets_called(runs)[-2:] == ["book", "colab"], "the edition is written after the book's run"
    publish = next(s for s in steps if str(s.get("uses", "")).startswith("peaceiris/actions-gh-pages@"))
    assert publish["with"]["publish_dir"] == "_build/colab"
    assert "colab_branch" in runs and "steps.colab.outputs.branch" in publish["with"]["publish_branch"]
    assert load("pages.yml")["permissions"]["contents"] == "write"


@pytest.mark.parametrize("variable", [None, ""])
def test_setup_installs_the_cpu_build_of_torch_unless_told_otherwise(variable):
    import os
    import subprocess

    command = ["make", "-n", "-B", ".venv/.installed"] + ([] if variable is None else [f"TORCH_INDEX={variable}"])
    # as on a fresh machine: not the TORCH_INDEX that .ci/run exports, nor the flags of an outer make
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, env=env).stdout
    torch_line = next(line for line in out.splitlines() if line.rstrip().endswith(" torch"))
    assert "-c constraints.txt" in torch_line
    if variable is None:
        assert "--index-url https://download.pytorch.org/whl/cpu" in torch_line
    else:
        assert "--index-url" not in torch_line


def _stand_in_wheel(index: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A minimal wheel (metadata only) listed on a PEP 503 page of ``index``, as a package index serves it."""
    import zipfile

    dist = f"{name.replace('-', '_')}-{version}"
    folder = index / name
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-py3-none-any.whl"
    metadata = "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                        *(f"Requires-Dist: {r}\n" for r in requires)])
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{dist}.dist-info/METADATA", metadata)
        archive.writestr(f"{dist}.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{dist}.dist-info/RECORD", "")
    (folder / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n')


def test_resolve_torch_picks_the_cpu_wheel_over_pypis_cuda_build(tmp_path):
    """``make resolve-torch``, offline: stand-ins for PyTorch's CPU index (``torch 2.13.0+cpu``) and for PyPI
    (``torch 2.13.0`` requiring an NVIDIA wheel, as the real one on Linux does). With the Makefile's default
    index arguments pip resolves the CPU build and nothing from NVIDIA; with ``TORCH_INDEX=`` it takes the
    CUDA build. (Against the real indexes, the closing note of the stop that added this shows both lists.)"""
    import os
    import subprocess

    cpu, pypi = tmp_path / "cpu", tmp_path / "pypi"
    _stand_in_wheel(cpu, "torch", "2.13.0+cpu")
    _stand_in_wheel(pypi, "torch", "2.13.0", ("nvidia-cublas",))
    _stand_in_wheel(pypi, "nvidia-cublas", "13.1.1")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k not in ("TORCH_INDEX", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": pypi.as_uri(), "PIP_NO_CACHE_DIR": "1"}

    def resolve(*variables: str) -> list[str]:
        command = ["make", "-s", "resolve-torch", f"PYPI_INDEX={pypi.as_uri()}", *variables]
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        return [" ".join(line.split()[:2]) for line in out.stdout.splitlines()]

    assert resolve(f"TORCH_INDEX={cpu.as_uri()}") == ["torch 2.13.0+cpu"]
    assert sorted(resolve("TORCH_INDEX=")) == ["nvidia-cublas 13.1.1", "torch 2.13.0"]


def test_the_python_of_ci_satisfies_requires_python():
    minimum = re.search(r'requires-python = ">=3\.(\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    for name in ("ci.yml", "pages.yml"):
        for job in load(name)["jobs"].values():
            if step := _step(job, "actions/setup-python"):
                assert int(str(step["with"]["python-version"]).split(".")[1]) >= int(minimum)


# --- the checks reject broken workflows -------------------------------------------------------


def _drop_checkout(w):
    w["jobs"]["test"]["steps"].pop(0)


def _unknown_target(w):
    w["jobs"]["test"]["steps"].append({"name": "x", "run": "make tset"})


def _unpinned_action(w):
    w["jobs"]["test"]["steps"][1]["uses"] = "actions/setup-python@main"


def _both_uses_and_run(w):
    w["jobs"]["test"]["steps"][1]["run"] = "echo hi"


def _no_runs_on(w):
    del w["jobs"]["test"]["runs-on"]


def _no_jobs(w):
    w["jobs"] = {}


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_drop_checkout, "does not start with actions/checkout"),
        (_unknown_target, "make tset: no such target"),
        (_unpinned_action, "is not OWNER/REPO@vN"),
        (_both_uses_and_run, "exactly one of 'uses' and 'run'"),
        (_no_runs_on, "no runs-on"),
        (_no_jobs, "no jobs"),
    ],
)
def test_workflow_check_rejects(breaker, message):
    workflow = copy.deepcopy(load("ci.yml"))
    breaker(workflow)
    assert any(message in p for p in workflow_problems(workflow, makefile_targets()))


def test_ci_and_pages_checks_reject():
    ci = load("ci.yml")
    ci["on"] = {"push": {"branches": ["dev"]}}
    ci["jobs"]["test"]["steps"] = [s for s in ci["jobs"]["test"]["steps"] if "run" not in s]
    problems = ci_problems(ci)
    assert {"CI must run on pushes to main", "CI must run on pull requests", "CI must run .ci/run (make test)"} <= set(
        problems)

    pages = load("pages.yml")
    pages["permissions"]["id-token"] = "read"
    build = pages["jobs"]["build"]
    _step(build, "actions/upload-pages-artifact")["with"]["path"] = "_build"
    build["steps"] = [s for s in build["steps"] if "make book" not in s.get("run", "")]
    pages["jobs"]["deploy"]["needs"] = []
    problems = "\n".join(pages_problems(pages))
    for message in ("id-token: write", "must be _build/html", "must run make book", "must need the build job"):
        assert message in problems
    del pages["jobs"]["deploy"]
    assert "no job deploys with actions/deploy-pages" in pages_problems(pages)
