"""Trained learners that ship with the package, each with the manifest that says how it was made.

A chapter can train a learner only as long as its time budget allows; the method's known behaviour
often needs longer. So ``benchmarks/train_fewshot.py`` trains each learner longer, and writes its
weights (``<name>.pt``) and a manifest (``<name>.json``) into this package's ``checkpoints`` folder:
the exact command, the git commit, the seed, the data split, the training steps and its CPU and
wall seconds, the learning curve, the final metrics with their confidence intervals, and the
SHA-256 of the weights. :func:`available` lists them, :func:`load` rebuilds the learner from its
manifest, checks the hash (a mismatch raises an error that says what to do) and loads the weights.
``tests/test_pretrained.py`` reproduces each recorded accuracy on a fixed set of held-out episodes.
§4.2 (``notebooks/08_few_shot.ipynb``) evaluates them live. The learned optimizers of
``benchmarks/train_learned_optimizer.py`` ship the same way (``kind`` ``"optimizer"``); §3.3
(``notebooks/05_gradient_based.ipynb``) evaluates them. The memory models (``kind`` ``"memory"``):
the end-to-end memory networks of ``benchmarks/train_memn2n.py`` (one per story task), the copy
task's NTM and LSTM of ``benchmarks/train_ntm.py``, and MANN, MANN with its reads zeroed and an LSTM
on Omniglot sequence episodes (``benchmarks/mann_ablation.py --save``), evaluated in §3.2
(``notebooks/04_memory_augmented.ipynb``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import checks
from .tasks import Task

__all__ = ["CHECKPOINTS", "KINDS", "ChecksumError", "available", "build", "load", "manifest", "predictor", "tied_head"]

CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"


class ChecksumError(ValueError):
    """A checkpoint's weights do not have the SHA-256 its manifest records."""


KINDS = ("fewshot", "optimizer", "memory")


def available(kind: str | None = None) -> list[str]:
    """The names of the shipped checkpoints (each has a manifest and a weights file).

    Args:
        kind: only few-shot learners (``"fewshot"``: Omniglot, ``benchmarks/train_fewshot.py``) or only
            learned optimizers (``"optimizer"``: ``benchmarks/train_learned_optimizer.py``) or only
            memory models (``"memory"``: ``benchmarks/train_memn2n.py``, ``benchmarks/train_ntm.py``,
            ``benchmarks/mann_ablation.py``);
            ``None``: all.
    """
    if kind is not None:
        checks.one_of("kind", kind, KINDS)
    names = sorted(p.stem for p in CHECKPOINTS.glob("*.json") if (CHECKPOINTS / f"{p.stem}.pt").is_file())
    if kind is None:
        return names
    return [n for n in names if json.loads((CHECKPOINTS / f"{n}.json").read_text(encoding="utf-8")).get(
        "kind", "fewshot") == kind]


def manifest(name: str) -> dict[str, Any]:
    """The manifest of checkpoint ``name``.

    Raises:
        ValueError: no such checkpoint (the message lists the available ones).
    """
    checks.one_of("name", name, available())
    return json.loads((CHECKPOINTS / f"{name}.json").read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(spec: dict[str, Any]) -> nn.Module:
    """The untrained learner a manifest's ``"build"`` entry describes (network, learner, settings)."""
    from . import gradient, memory, metric, nets

    if spec["learner"] == "LSTMOptimizer":
        return gradient.LSTMOptimizer(**spec["kwargs"])
    if spec["learner"] in ("MemN2N", "NTM", "SequenceLSTM", "MANN"):
        return getattr(memory, spec["learner"])(**spec["kwargs"])
    net_spec = dict(spec["net"])
    kind = net_spec.pop("kind")
    network = {"ConvNet4": nets.ConvNet4, "ConvEncoder": nets.ConvEncoder}[kind](**net_spec)
    learner, kwargs = spec["learner"], dict(spec.get("kwargs", {}))
    if learner == "PrototypicalNetwork":
        return metric.PrototypicalNetwork(network)
    if learner == "RelationNetwork":
        return metric.RelationNetwork(network, **kwargs)
    if learner == "TransferBaseline":
        return gradient.TransferBaseline(network, **kwargs)
    cls = {"MAML": gradient.MAML, "ANIL": gradient.ANIL, "ProtoMAML": gradient.ProtoMAML,
           "Reptile": gradient.Reptile}[learner]
    return cls(network, F.cross_entropy, **kwargs)


def load(name: str, device: torch.device | str = "cpu", n_way: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """The trained learner ``name`` and its manifest, after checking the weights' SHA-256.

    Args:
        name: one of :func:`available`.
        device: where the learner's weights go.
        n_way: rebuild a learner whose network ends in a fixed-size ``head`` (MAML, first-order
            MAML, Meta-SGD, ANIL, Proto-MAML, Reptile: trained 5-way) for ``n_way`` classes. Each
            head tensor with one row per class (weight, bias and, for Meta-SGD, their step sizes)
            becomes ``n_way`` copies of the mean of its trained rows, the tied head of Ye & Chao
            (2022): the learners meet the labels of a task in random order, so no row is tied to a
            class. §4.2 (``notebooks/08_few_shot.ipynb``) measures what that costs at 5 ways. A
            learner without such a head (the metric learners, the pretrain + fine-tune baselines)
            takes any number of classes already and is returned unchanged.

    Raises:
        ValueError: unknown ``name``; ``n_way`` not a positive integer, or given for a checkpoint
            that is not a few-shot learner.
        ChecksumError: the weights file differs from the one the manifest describes (a partial
            download or a local edit); reinstall the package or retrain with the manifest's command.
    """
    record = manifest(name)
    path = CHECKPOINTS / f"{name}.pt"
    actual = _sha256(path)
    if actual != record["sha256"]:
        raise ChecksumError(f"{path} has SHA-256 {actual}, but its manifest records {record['sha256']}: the file was "
                            f"changed or truncated. Reinstall metalearn-lite, or retrain it with: {record['command']}")
    learner = build(record["build"])
    learner.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if n_way is not None:
        checks.positive_int("n_way", n_way)
        if record.get("kind", "fewshot") != "fewshot":
            raise ValueError(f"n_way applies to few-shot learners only; checkpoint {name!r} is of kind "
                             f"{record['kind']!r}")
        learner = tied_head(learner, record["build"], n_way)
    return learner.to(device), record


def tied_head(learner: nn.Module, spec: dict[str, Any], n_way: int) -> nn.Module:
    """``learner`` rebuilt for ``n_way`` classes with every per-class head row set to the rows' mean.

    What :func:`load` does with ``n_way``, for a learner built from ``spec`` (a manifest's ``build``)
    that is still in memory, such as one ``benchmarks/train_fewshot.py`` has just trained. A new
    learner is returned; ``learner`` is left as it was. Learners without a fixed head come back as
    they are.
    """
    checks.module("learner", learner)
    checks.positive_int("n_way", n_way)
    if not isinstance(spec, dict) or not isinstance(spec.get("net"), dict) or "kind" not in spec["net"]:
        raise TypeError(f"spec must be a manifest's 'build' dict (with 'net': {{'kind': ...}}), got {spec!r}")
    if spec["net"]["kind"] != "ConvNet4":  # no fixed head: any number of classes already
        return learner
    trained = learner.state_dict()
    # the per-class tensors are those whose shape follows the number of classes (head weight and bias, and
    # Meta-SGD's step sizes for them); tied also when n_way equals the trained number
    other = build({**spec, "net": {**spec["net"], "n_way": spec["net"]["n_way"] + 1}}).state_dict()
    per_class = {key for key, value in trained.items() if other[key].shape != value.shape}
    wider = build({**spec, "net": {**spec["net"], "n_way": n_way}})
    wider.load_state_dict({key: trained[key].mean(dim=0, keepdim=True).expand_as(value).clone() if key in per_class
                           else trained[key] for key, value in wider.state_dict().items()})
    return wider


def predictor(learner: nn.Module, record: dict[str, Any]) -> Callable[[Task], Tensor]:
    """``task -> predicted query labels`` for a learner from :func:`load`, as its manifest says to test it.

    A gradient-based learner adapts to the support set with the manifest's ``test_inner_steps``
    (first order: predicting needs no second-order graph) and classifies the queries with its fast
    weights; a prototypical network compares the queries with the support prototypes. Pass it to
    :func:`metalearn_lite.evaluate_episodes`. Shapes: ``task.x_query (Q, 1, H, W)`` -> ``(Q,)``.
    """
    checks.module("learner", learner)
    steps = checks.positive_int("record['test_inner_steps']", record.get("test_inner_steps", 1))

    def predict(task: Task) -> Tensor:
        device = next(learner.parameters()).device
        task = task.to(device)
        if not hasattr(learner, "adapt"):
            return learner.predict(task).cpu()
        with torch.no_grad():
            fast = learner.adapt(task.x_support, task.y_support, inner_steps=steps)
            return learner(task.x_query, fast).argmax(dim=1).cpu()

    return predict
