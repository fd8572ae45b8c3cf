"""Gradient-based meta-learning: learn where gradient descent starts, or what it adapts.

``fast_weights`` (the one inner loop every learner here runs), ``learner`` (what they share: adapt,
meta-loss on a loop or a vmap path), ``maml`` (MAML, first-order MAML, Meta-SGD), ``anil`` (only the
head adapts), ``proto_maml`` (MAML with a head built from prototypes), ``cavia`` (only a context
vector adapts), ``reptile`` (move towards adapted weights), ``curves`` (query loss after each inner
step, tasks batched), ``finetune`` (train each task on its own: the baseline), ``learned_optimizer``
(learn the whole update rule: an LSTM optimizer) with ``hand_designed`` (SGD and Adam as its
baselines), ``feature_reuse`` (how much each layer changes when MAML adapts: CKA), ``transfer``
(pretrain on all training classes, fit a new head per task: the baseline of Chen et al. 2019).
Taught in §3.3 (``notebooks/05_gradient_based.ipynb``) and §4.1
(``notebooks/07_maml_from_scratch.ipynb``); §4.2 (``notebooks/08_few_shot.ipynb``) uses the last
two, Proto-MAML and the shipped checkpoints.
"""

from .anil import ANIL
from .cavia import CAVIA, with_context
from .fast_weights import adapt, call_per_task, choose_path
from .feature_reuse import layer_outputs, linear_cka
from .finetune import fit_each_task, predict_each_task
from .hand_designed import best_learning_rate, geometric_mean, optimize_with
from .learned_optimizer import LSTMOptimizer, meta_train_optimizer, optimize
from .learner import BilevelLearner, GradientLearner
from .maml import MAML
from .proto_maml import ProtoMAML
from .reptile import Reptile
from .transfer import CosineClassifier, TransferBaseline

__all__ = [
    "ANIL",
    "BilevelLearner",
    "CAVIA",
    "CosineClassifier",
    "GradientLearner",
    "LSTMOptimizer",
    "MAML",
    "ProtoMAML",
    "Reptile",
    "TransferBaseline",
    "adapt",
    "best_learning_rate",
    "call_per_task",
    "choose_path",
    "fit_each_task",
    "geometric_mean",
    "layer_outputs",
    "linear_cka",
    "meta_train_optimizer",
    "optimize",
    "optimize_with",
    "predict_each_task",
    "with_context",
]
