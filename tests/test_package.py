"""The package as a whole: light to import, every public name resolves, the layout stays by concept."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import metalearn_lite as mll

PACKAGE = Path(mll.__file__).parent


def test_import_is_light():
    """Beyond what torch itself imports, the package and its learners load no plotting, image or
    download library; ``import metalearn_lite`` alone does not even import torch."""
    heavy = "('matplotlib', 'PIL', 'urllib', 'tqdm', 'nbformat', 'yaml', 'torch')"
    loaded = f"sorted({{n.split('.')[0] for n in sys.modules}} & set({heavy}))"
    code = (f"import sys; import metalearn_lite as m; print({loaded}); import torch; before = {loaded}; "
            f"m.MAML; m.Task; m.PrototypicalNetwork; import metalearn_lite.data; "
            f"print(sorted(set({loaded}) - set(before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", f"import metalearn_lite loaded {out[0]}"
    assert out[1] == "[]", f"the learners loaded {out[1]} beyond torch's own imports"


def test_every_public_name_resolves():
    for name in mll.__all__:
        assert getattr(mll, name) is not None
    for name in mll.data.__all__:
        assert getattr(mll.data, name) is not None
    assert set(mll.__all__) <= set(dir(mll))
    with pytest.raises(AttributeError, match="no attribute 'fewshot'"):
        mll.fewshot  # noqa: B018


def _imports(path: Path) -> list[str]:
    """The package-internal modules ``path`` imports, as dotted names."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found += [f"{target}.{a.name}" if not node.module else target for a in node.names]
    return found


# The parts of the package, lowest first: a module may import from its own part and from lower ones.
LAYERS = [
    {"tasks", "reduction"},
    {"checks"},
    {"runtime", "nets", "evaluation", "training", "plotting", "data", "book", "results"},
    {"gradient", "metric", "memory"},
    {"adversarial", "rl", "pretrained"},
    {"course"},
]


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    return next(i for i, names in enumerate(LAYERS) if part in names)


def test_no_module_imports_a_part_above_it_and_modules_stay_small():
    long = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if module == "metalearn_lite" or module.startswith("metalearn_lite.__"):
            continue
        for target in _imports(path):
            if target.startswith("metalearn_lite.") and target != "metalearn_lite":
                assert _layer(target) <= _layer(module), f"{module} imports {target}, a part above it"
        if len(path.read_text().splitlines()) > 300:
            long.append(str(path.relative_to(PACKAGE)))
    assert not long, f"modules over 300 lines: {long}"


def test_the_readme_example_runs(repo_root, omniglot_dir):
    import re

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Using the package.*?```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    grads = [p.grad for p in namespace["maml"].parameters()]
    assert all(g is not None for g in grads) and namespace["task"].x_support.shape == (5, 1, 28, 28)
