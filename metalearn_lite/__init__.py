"""metalearn-lite: meta-learning ("learning to learn") from scratch in PyTorch.

The library behind the executable book in this repository. Each module is one concept and
points to the chapter that teaches it.
"""

from . import (
    baselines,
    cavia,
    data,
    evaluation,
    fewshot,
    losses,
    maml,
    memory,
    metagan,
    nets,
    plotting,
    reptile,
    rl,
    training,
    utils,
)
from .cavia import CAVIA
from .evaluation import Accuracy, evaluate_episodes
from .fewshot import MatchingNetwork, PrototypicalNetwork, SiameseNetwork
from .maml import MAML
from .metagan import MetaGAN
from .reptile import Reptile
from .tasks import Task, stack_tasks
from .utils import default_device, seed_everything

__version__ = "0.1.0"

__all__ = [
    "Accuracy",
    "CAVIA",
    "MAML",
    "MatchingNetwork",
    "MetaGAN",
    "PrototypicalNetwork",
    "Reptile",
    "SiameseNetwork",
    "Task",
    "baselines",
    "cavia",
    "data",
    "default_device",
    "evaluate_episodes",
    "evaluation",
    "fewshot",
    "losses",
    "maml",
    "memory",
    "metagan",
    "nets",
    "plotting",
    "reptile",
    "rl",
    "seed_everything",
    "stack_tasks",
    "training",
    "utils",
]
