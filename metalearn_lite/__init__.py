"""metalearn-lite: meta-learning ("learning to learn") from scratch in PyTorch.

The library behind the executable book in this repository. Each module is one concept and
points to the chapter that teaches it.
"""

from . import data, evaluation, memory, plotting, utils
from .evaluation import Accuracy, evaluate_episodes
from .tasks import Task, stack_tasks
from .utils import default_device, seed_everything

__version__ = "0.1.0"

__all__ = [
    "Accuracy",
    "Task",
    "data",
    "default_device",
    "evaluate_episodes",
    "evaluation",
    "memory",
    "plotting",
    "seed_everything",
    "stack_tasks",
    "utils",
]
