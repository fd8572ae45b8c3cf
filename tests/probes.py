"""Bad-input probes of the public API: which call, which argument, what kind of value it takes.

Each probe builds a *valid* call of a public function or class, then replaces one argument by a
bad value of its kind. ``tests/test_bad_input.py`` draws the bad values with Hypothesis and asserts
a ``TypeError`` or ``ValueError`` whose message names the argument; ``benchmarks/bad_input_probe.py``
runs a fixed list of bad values per kind and counts clear errors, obscure errors and silent
acceptances (the figure issue #14 asks for).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

import metalearn_lite as mll
from metalearn_lite import adversarial, data, evaluation, gradient, memory, metric, nets, pretrained, rl, training
from metalearn_lite.data import copy_task, ratings, sinusoid, stories

# The bad values of each kind of argument, for the fixed probe (Hypothesis draws more in the test).
BAD: dict[str, list[Any]] = {
    "pos_int": [0, -3, 1.5, True, "2"],
    "nonneg_int": [-1, 2.5, False, "0"],
    "pos_float": [0.0, -0.1, math.nan, math.inf, True, "0.1"],
    "nonneg_float": [-0.5, math.nan, -math.inf, True, "1"],
    "prob": [-0.1, 1.5, math.nan, True, "0.5"],
    "flag": [1, 0, "no", None, 1.0],
    "generator": [0, "seed", 3.5],
    "choice": ["nonsense", 3, None],
    "tensor": [[1.0, 2.0], 3.0, None, "x"],
    "module": ["net", 3, None],
    "callable": ["mse", 3, None],
}


@dataclass
class Probe:
    """``call(**kwargs())`` is a valid call; ``params`` maps each probed argument to its kind."""

    name: str
    call: Callable[..., Any]
    kwargs: Callable[[], dict[str, Any]]
    params: dict[str, str] = field(default_factory=dict)


def _tasks(n: int = 2, k: int = 3) -> list[mll.Task]:
    return sinusoid.sample_tasks(n, k, generator=torch.Generator().manual_seed(0))


def _class_tasks(n: int = 2) -> list[mll.Task]:
    g = torch.Generator().manual_seed(0)
    return [mll.Task(torch.randn(4, 2, generator=g), torch.tensor([0, 1, 0, 1]), torch.randn(4, 2, generator=g),
                     torch.tensor([1, 0, 1, 0])) for _ in range(n)]


def _images(n: int = 40, classes: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)), torch.arange(n) % classes


def _maml() -> gradient.MAML:
    return gradient.MAML(nets.MLP(hidden=(4,)), F.mse_loss, 0.1)


def _seq_sampler() -> data.SequenceEpisodeSampler:
    x, y = _images(60, 6)
    return data.SequenceEpisodeSampler(x, y, n_way=3, n_instances=2, generator=torch.Generator().manual_seed(0))


def _trajectories() -> rl.Trajectories:
    g = torch.Generator().manual_seed(0)
    policy = rl.GaussianMLPPolicy(hidden_sizes=(4,))
    return rl.rollout(policy, rl.Navigation2D(horizon=5), torch.zeros(2, 2), 2, g)


def _learner_kwargs(**extra: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"model": nets.MLP(hidden=(4,)), "loss_fn": F.mse_loss, "inner_lr": 0.1, **extra}


LEARNER = {"model": "module", "loss_fn": "callable", "inner_lr": "pos_float", "inner_steps": "pos_int",
           "first_order": "flag", "path": "choice"}
LOSS_REDUCTION = {"margin": "nonneg_float", "reduction": "choice"}

PROBES: list[Probe] = [
    # --- gradient-based ---------------------------------------------------------------------
    Probe("MAML", gradient.MAML, _learner_kwargs(), {**LEARNER, "learn_inner_lr": "flag"}),
    Probe("ANIL", gradient.ANIL, lambda: {"model": nets.ConvNet4(hidden_channels=4), "loss_fn": F.cross_entropy,
                                          "inner_lr": 0.4}, {**LEARNER, "learn_inner_lr": "flag"}),
    Probe("CAVIA", gradient.CAVIA, lambda: {"model": nets.MLP(1 + 2, (4,)), "loss_fn": F.mse_loss,
                                            "num_context_params": 2},
          {**LEARNER, "num_context_params": "pos_int"}),
    Probe("Reptile", gradient.Reptile, _learner_kwargs(inner_steps=2, outer_lr=0.5),
          {"model": "module", "loss_fn": "callable", "inner_lr": "pos_float", "inner_steps": "pos_int",
           "outer_lr": "pos_float"}),
    Probe("MAML.adapt", lambda **k: _maml().adapt(**k),
          lambda: {"x_support": _tasks(1)[0].x_support, "y_support": _tasks(1)[0].y_support, "inner_steps": 1},
          {"x_support": "tensor", "y_support": "tensor", "inner_steps": "pos_int"}),
    Probe("fit_each_task", gradient.fit_each_task,
          lambda: {"model": nets.MLP(hidden=(4,)), "loss_fn": F.mse_loss, "tasks": _tasks(), "num_steps": 1,
                   "lr": 0.1},
          {"model": "module", "loss_fn": "callable", "num_steps": "pos_int", "lr": "pos_float", "optimizer": "choice",
           "progress": "flag"}),
    # --- metric-based -----------------------------------------------------------------------
    Probe("contrastive_loss", metric.contrastive_loss,
          lambda: {"x1": torch.randn(3, 2), "x2": torch.randn(3, 2), "same": torch.tensor([0, 1, 1])},
          LOSS_REDUCTION),
    Probe("triplet_loss", metric.triplet_loss,
          lambda: {"anchor": torch.randn(3, 2), "positive": torch.randn(3, 2), "negative": torch.randn(3, 2)},
          LOSS_REDUCTION),
    Probe("batch_hard_triplet_loss", metric.batch_hard_triplet_loss,
          lambda: {"embeddings": torch.randn(4, 2), "labels": torch.tensor([0, 0, 1, 1])},
          {**LOSS_REDUCTION, "embeddings": "tensor", "labels": "tensor"}),
    Probe("semi_hard_triplet_loss", metric.semi_hard_triplet_loss,
          lambda: {"embeddings": torch.randn(4, 2), "labels": torch.tensor([0, 0, 1, 1])},
          {**LOSS_REDUCTION, "embeddings": "tensor", "labels": "tensor"}),
    Probe("center_update", metric.center_update,
          lambda: {"features": torch.randn(4, 2), "labels": torch.tensor([0, 0, 1, 1]), "centers": torch.zeros(2, 2)},
          {"alpha": "prob", "features": "tensor", "labels": "tensor"}),
    Probe("CenterLoss", metric.CenterLoss, lambda: {"num_classes": 3, "feat_dim": 2},
          {"num_classes": "pos_int", "feat_dim": "pos_int", "alpha": "prob", "reduction": "choice"}),
    Probe("ContrastiveLoss", metric.ContrastiveLoss, lambda: {}, LOSS_REDUCTION),
    Probe("SiameseNetwork", metric.SiameseNetwork, lambda: {"encoder": nets.ConvEncoder(hidden_channels=4),
                                                           "embedding_dim": 4},
          {"embedding_dim": "pos_int"}),
    Probe("MatchingNetwork", metric.MatchingNetwork, lambda: {"encoder": torch.nn.Flatten()},
          {"fce": "flag", "processing_steps": "pos_int", "scale": "pos_float", "learn_scale": "flag"}),
    Probe("pretrained.load", pretrained.load, lambda: {"name": "protonet"}, {"n_way": "pos_int"}),
    Probe("pretrained.tied_head", pretrained.tied_head,
          lambda: {"learner": pretrained.load("maml")[0], "spec": pretrained.manifest("maml")["build"], "n_way": 20},
          {"learner": "module", "n_way": "pos_int"}),
    Probe("train_metric_learner", metric.train_metric_learner,
          lambda: {"learner": metric.PrototypicalNetwork(nets.ConvEncoder(hidden_channels=4)),
                   "episodes": data.EpisodeSampler(*_images(), 2, 1, 1), "num_steps": 1, "progress": False},
          {"num_steps": "pos_int", "progress": "flag"}),
    Probe("evaluate_embedded", metric.evaluate_embedded,
          lambda: {"learner": metric.NearestNeighbour(), "images": _images()[0], "labels": _images()[1],
                   "n_way": 2, "k_shot": 1, "n_query": 1, "num_episodes": 2},
          {"n_way": "pos_int", "k_shot": "pos_int", "n_query": "nonneg_int", "num_episodes": "pos_int"}),
    # --- networks ---------------------------------------------------------------------------
    Probe("MLP", nets.MLP, lambda: {"in_features": 2, "out_features": 1}, {"in_features": "pos_int",
                                                                         "out_features": "pos_int"}),
    Probe("ConvEncoder", nets.ConvEncoder, lambda: {"hidden_channels": 4},
          {"in_channels": "pos_int", "hidden_channels": "pos_int", "num_blocks": "pos_int", "norm": "choice",
           "ceil_mode": "flag", "norm_impl": "choice"}),
    Probe("ConvNet4", nets.ConvNet4, lambda: {"hidden_channels": 4},
          {"n_way": "pos_int", "hidden_channels": "pos_int", "image_size": "pos_int", "norm": "choice",
           "ceil_mode": "flag"}),
    # --- data -------------------------------------------------------------------------------
    Probe("EpisodeSampler", data.EpisodeSampler, lambda: {"x": _images()[0], "y": _images()[1], "n_way": 2,
                                                          "k_shot": 1, "n_query": 1},
          {"x": "tensor", "y": "tensor", "n_way": "pos_int", "k_shot": "pos_int", "n_query": "nonneg_int",
           "num_episodes": "pos_int", "generator": "generator"}),
    Probe("sinusoid.sample_tasks", sinusoid.sample_tasks, lambda: {"n_tasks": 2, "k_shot": 3},
          {"n_tasks": "pos_int", "k_shot": "pos_int", "n_query": "pos_int", "generator": "generator"}),
    Probe("copy_batch", copy_task.copy_batch, lambda: {"batch_size": 2, "length": 3},
          {"batch_size": "pos_int", "length": "pos_int", "n_bits": "pos_int", "generator": "generator"}),
    Probe("stories.generate", stories.generate, lambda: {"task": 1, "num_stories": 2},
          {"task": "choice", "num_stories": "pos_int", "generator": "generator", "min_sentences": "pos_int"}),
    Probe("ratings.make_world", ratings.make_world, lambda: {"generator": torch.Generator().manual_seed(0)},
          {"generator": "generator", "n_items": "pos_int", "n_genres": "pos_int", "n_groups": "pos_int",
           "genre_prob": "prob", "noise_std": "nonneg_float", "taste_std": "nonneg_float", "rounded": "flag"}),
    Probe("SequenceEpisodeSampler", data.SequenceEpisodeSampler,
          lambda: {"x": _images(60, 6)[0], "y": _images(60, 6)[1], "n_way": 3, "n_instances": 2},
          {"n_way": "pos_int", "n_instances": "pos_int", "generator": "generator"}),
    Probe("random_affine", data.augment.random_affine, lambda: {"images": _images(4)[0]},
          {"images": "tensor", "generator": "generator", "max_rotation": "nonneg_float", "max_shear": "nonneg_float",
           "max_shift": "nonneg_float"}),
    # --- memory -----------------------------------------------------------------------------
    Probe("NTM", memory.NTM, lambda: {"input_size": 3, "output_size": 2},
          {"input_size": "pos_int", "output_size": "pos_int", "hidden_size": "pos_int", "memory_slots": "pos_int",
           "memory_width": "pos_int", "shift_range": "nonneg_int"}),
    Probe("MANN", memory.MANN, lambda: {"input_size": 3, "output_size": 2, "memory_slots": 8, "num_reads": 1},
          {"input_size": "pos_int", "output_size": "pos_int", "hidden_size": "pos_int", "memory_slots": "pos_int",
           "num_reads": "pos_int", "gamma": "prob", "key_strength": "flag", "write_key": "flag"}),
    Probe("MemN2N", memory.MemN2N, lambda: {"vocab_size": 10},
          {"vocab_size": "pos_int", "embedding_dim": "pos_int", "hops": "pos_int", "memory_size": "pos_int",
           "position_encoding": "flag", "temporal_encoding": "flag"}),
    Probe("SequenceLSTM", memory.SequenceLSTM, lambda: {"input_size": 3, "output_size": 2},
          {"input_size": "pos_int", "output_size": "pos_int", "hidden_size": "pos_int", "num_layers": "pos_int"}),
    Probe("train_copy", memory.train_copy,
          lambda: {"model": memory.SequenceLSTM(9, 8, hidden_size=4), "num_steps": 1, "max_length": 2,
                   "progress": False},
          {"model": "module", "num_steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float",
           "max_grad_norm": "pos_float", "generator": "generator", "progress": "flag"}),
    Probe("train_sequence_model", memory.train_sequence_model,
          lambda: {"model": memory.SequenceLSTM(784 + 3, 3, hidden_size=4), "sampler": _seq_sampler(),
                   "num_steps": 1, "batch_size": 2, "progress": False},
          {"num_steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float", "max_grad_norm": "pos_float",
           "progress": "flag"}),
    Probe("copy_errors", memory.copy_errors,
          lambda: {"model": memory.SequenceLSTM(9, 8, hidden_size=4), "lengths": [2], "num_sequences": 2},
          {"model": "module", "n_bits": "pos_int", "num_sequences": "pos_int", "generator": "generator"}),
    Probe("evaluate_per_instance", memory.evaluate_per_instance,
          lambda: {"model": memory.SequenceLSTM(784 + 3, 3, hidden_size=4), "sampler": _seq_sampler(),
                   "num_episodes": 2},
          {"num_episodes": "pos_int", "batch_size": "pos_int"}),
    # --- adversarial ------------------------------------------------------------------------
    Probe("MetaGAN", adversarial.MetaGAN,
          lambda: {"model": nets.MLP(2, (4,), 2), "generator": adversarial.TaskConditionedGenerator(2), "n_way": 2,
                   "num_fake": 1, "inner_lr": 0.1},
          {"model": "module", "generator": "module", "n_way": "pos_int", "num_fake": "pos_int",
           "inner_lr": "pos_float", "inner_steps": "pos_int", "first_order": "flag"}),
    Probe("TaskConditionedGenerator", adversarial.TaskConditionedGenerator, lambda: {"n_features": 2},
          {"n_features": "pos_int", "noise_dim": "pos_int", "hidden": "pos_int"}),
    # --- reinforcement learning -------------------------------------------------------------
    Probe("Navigation2D", rl.Navigation2D, lambda: {}, {"horizon": "pos_int", "max_step": "pos_float",
                                                        "goal_tolerance": "nonneg_float"}),
    Probe("GaussianMLPPolicy", rl.GaussianMLPPolicy, lambda: {}, {"state_dim": "pos_int", "action_dim": "pos_int",
                                                                  "init_std": "pos_float"}),
    Probe("discounted_returns", rl.discounted_returns, lambda: {"rewards": torch.ones(2, 3)},
          {"rewards": "tensor", "discount": "prob"}),
    Probe("rollout", rl.rollout,
          lambda: {"policy": rl.GaussianMLPPolicy(hidden_sizes=(4,)), "env": rl.Navigation2D(horizon=3),
                   "goals": torch.zeros(1, 2), "n_traj": 2, "generator": torch.Generator().manual_seed(0)},
          {"n_traj": "pos_int", "generator": "generator", "per_task": "flag"}),
    Probe("PolicyMAML", rl.PolicyMAML, lambda: {"policy": rl.GaussianMLPPolicy(hidden_sizes=(4,))},
          {"policy": "module", "inner_lr": "pos_float", "first_order": "flag", "estimator": "choice",
           "learn_inner_lr": "flag"}),
    Probe("compute_advantages", rl.compute_advantages, lambda: {"trajectories": _trajectories()},
          {"discount": "prob", "baseline": "flag", "normalize": "flag"}),
    Probe("surrogate_loss", rl.surrogate_loss, lambda: {"log_probs": torch.zeros(2, 3), "advantages": torch.ones(2, 3)},
          {"log_probs": "tensor", "advantages": "tensor", "estimator": "choice", "reduction": "choice"}),
    Probe("train_pretrained", rl.train_pretrained,
          lambda: {"policy": rl.GaussianMLPPolicy(hidden_sizes=(4,)), "env": rl.Navigation2D(horizon=3), "num_steps": 1,
                   "generator": torch.Generator().manual_seed(0), "meta_batch_size": 1, "n_traj": 2,
                   "progress": False},
          {"policy": "module", "num_steps": "pos_int", "meta_batch_size": "pos_int", "n_traj": "pos_int",
           "outer_lr": "pos_float", "discount": "prob", "generator": "generator", "progress": "flag"}),
    # --- shared -----------------------------------------------------------------------------
    Probe("meta_train", training.meta_train,
          lambda: {"step": lambda tasks: 0.0, "sample_tasks": lambda: _tasks(), "num_steps": 1, "progress": False},
          {"step": "callable", "sample_tasks": "callable", "num_steps": "pos_int", "eval_every": "nonneg_int",
           "progress": "flag"}),
    Probe("adaptation_losses", training.adaptation_losses,
          lambda: {"learner": _maml(), "tasks": _tasks(), "max_inner_steps": 1}, {"max_inner_steps": "nonneg_int"}),
    Probe("evaluate_episodes", evaluation.evaluate_episodes,
          lambda: {"predict": lambda t: t.y_query, "episodes": data.EpisodeSampler(*_images(), 2, 1, 1),
                   "num_episodes": 2},
          {"predict": "callable", "num_episodes": "pos_int"}),
    Probe("seed_everything", mll.seed_everything, lambda: {"seed": 0}, {"seed": "nonneg_int"}),
    Probe("moving_average", mll.plotting.moving_average, lambda: {"values": [1.0, 2.0, 3.0], "width": 2},
          {"width": "pos_int"}),
    Probe("MAML.meta_loss with classes", lambda **k: gradient.MAML(nets.MLP(2, (4,), 2), F.cross_entropy, 0.1,
                                                                   **k).meta_loss(_class_tasks()),
          lambda: {}, {"inner_steps": "pos_int", "first_order": "flag", "path": "choice"}),
]


def probe_calls(bad: dict[str, list[Any]] = BAD):
    """Every (probe, argument, bad value) of the fixed probe."""
    for probe in PROBES:
        for param, kind in probe.params.items():
            for value in bad[kind]:
                yield probe, param, value


def outcome(probe: Probe, param: str, value: Any) -> tuple[str, str]:
    """``("clear" | "obscure" | "silent", message)`` for one bad call.

    Clear: a ``TypeError`` or ``ValueError`` whose message names the argument. Obscure: any other
    exception, or one that does not name it. Silent: no exception.
    """
    kwargs = probe.kwargs()
    kwargs[param] = value
    try:
        probe.call(**kwargs)
    except (TypeError, ValueError) as error:
        message = str(error)
        return ("clear" if param in message else "obscure"), f"{type(error).__name__}: {message}"
    except Exception as error:  # noqa: BLE001 (counting every kind of failure is the point)
        return "obscure", f"{type(error).__name__}: {error}"
    return "silent", ""
