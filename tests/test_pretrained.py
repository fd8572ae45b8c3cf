"""The shipped checkpoints: complete manifests, verified weights, and the recorded accuracy reproduced
on the same held-out episodes (``metalearn_lite.pretrained``, ``benchmarks/train_fewshot.py``)."""

from __future__ import annotations

import shutil

import pytest
import torch

from metalearn_lite import pretrained

REQUIRED = ("name", "command", "commit", "dirty", "torch", "seed", "split", "recipe", "build", "steps",
            "cpu_seconds", "wall_seconds", "curve", "metrics", "sha256", "check_episodes")
NAMES = pretrained.available()


def test_checkpoints_ship_with_complete_manifests_and_stay_small():
    assert NAMES, "the package ships trained checkpoints"
    total = 0
    for name in NAMES:
        record = pretrained.manifest(name)
        assert set(REQUIRED) <= set(record), f"{name}: manifest lacks {set(REQUIRED) - set(record)}"
        assert record["command"].startswith("python benchmarks/train_fewshot.py")
        for setting in ("5w1s", "5w5s"):
            metric = record["metrics"][setting]
            assert 0 < metric["mean"] <= 1 and metric["ci95"] > 0 and metric["episodes"] >= 1000
        size = (pretrained.CHECKPOINTS / f"{name}.pt").stat().st_size
        assert size <= 1 << 20, f"{name}.pt is {size} bytes, over 1 MB"
        total += size
    assert total <= 10 << 20


def test_a_changed_weights_file_is_refused_with_the_way_out(tmp_path, monkeypatch):
    name = NAMES[0]
    shutil.copytree(pretrained.CHECKPOINTS, tmp_path / "checkpoints")
    monkeypatch.setattr(pretrained, "CHECKPOINTS", tmp_path / "checkpoints")
    weights = tmp_path / "checkpoints" / f"{name}.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(pretrained.ChecksumError, match="changed or truncated.*Reinstall metalearn-lite, or retrain"):
        pretrained.load(name)
    with pytest.raises(ValueError, match="name must be one of"):
        pretrained.load("maml-on-imagenet")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_checkpoint_reproduces_its_recorded_accuracy(name, omniglot_dir):
    import sys

    sys.path.insert(0, str(pretrained.CHECKPOINTS.parents[1] / "benchmarks"))
    from train_fewshot import HELD_OUT, Recipe, accuracy, episodes

    from metalearn_lite.data import omniglot

    torch.set_num_threads(1)
    learner, record = pretrained.load(name)
    check = record["check_episodes"]
    meta_test = omniglot.load_background(size=28, allow_download=False).split(HELD_OUT)[1]
    tasks = episodes(meta_test, check["n_way"], check["k_shot"], check["n"], check["seed"])
    measured = accuracy(learner, Recipe(**record["recipe"]), tasks, torch.device("cpu")).mean
    one_query = 1 / (check["n"] * check["n_way"] * 5)  # five queries per class
    assert abs(measured - check["accuracy"]) <= one_query + 1e-9, (measured, check["accuracy"])
