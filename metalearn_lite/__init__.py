"""metalearn-lite: meta-learning ("learning to learn") from scratch in PyTorch.

The library behind the executable book in this repository. Each module is one concept and names
the section (§) and notebook that teach it. The parts of the package mirror the book's:

=======  ==========================================  =====================================================
§        notebook                                    modules
=======  ==========================================  =====================================================
1        ``notebooks/01_introduction.ipynb``         ``tasks``, ``data.episodes``, ``data.omniglot``,
                                                     ``data.sinusoid``, ``evaluation``, ``runtime``
2        ``notebooks/02_core_concepts.ipynb``        ``gradient.finetune``, ``training``
3.1      ``notebooks/03_metric_learning.ipynb``      ``metric`` (losses, Siamese, matching, prototypical)
3.2      ``notebooks/04_memory_augmented.ipynb``     ``memory`` (NTM, MANN, MemN2N), ``data.sequences``,
                                                     ``data.copy_task``, ``data.stories``
3.3      ``notebooks/05_gradient_based.ipynb``       ``gradient`` (MAML, first-order MAML, Meta-SGD, ANIL,
                                                     Reptile; the ``fast_weights`` kernel; the LSTM
                                                     optimizer), ``data.optimizees``, ``nets``
3.4      ``notebooks/06_adversarial.ipynb``          ``adversarial`` (MetaGAN), ``gradient.cavia``
4.1      ``notebooks/07_maml_from_scratch.ipynb``    ``gradient.maml`` (checked against a hand-written loop)
4.2      ``notebooks/08_few_shot.ipynb``             ``metric`` (relation networks), ``gradient``
                                                     (Proto-MAML, ``feature_reuse``, ``transfer``),
                                                     ``pretrained``, ``nets``, ``data.augment``
4.3      ``notebooks/09_meta_rl.ipynb``              ``rl``
5        ``notebooks/10_applications.ipynb``         ``data.ratings``, ``gradient.finetune``
6        ``notebooks/11_tools_and_resources.ipynb``  (the ecosystem; ``course`` checks the links)
=======  ==========================================  =====================================================

Shared by every part: ``checks`` (argument checks), ``tasks`` (the ``Task`` type), ``nets``,
``training`` (the guarded optimiser step, the meta-training loop), ``evaluation``, ``plotting``,
``reduction``, ``runtime`` (seeds and devices), ``book`` (numbers glued into the prose) and ``results``
(benchmark results files with their provenance). ``course`` holds the instructor tools
(``python -m metalearn_lite.course``). Submodules load on first use, so ``import metalearn_lite``
does not import matplotlib, PIL or urllib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ANIL", "Accuracy", "CAVIA", "MAML", "MatchingNetwork", "MetaGAN", "PrototypicalNetwork", "Reptile",
    "SiameseNetwork", "Task", "adversarial", "book", "checks", "data", "default_device", "evaluate_episodes",
    "evaluation", "glue", "gradient", "mean_ci", "memory", "metric", "nets", "plotting", "reduction", "results", "rl",
    "runtime", "seed_everything", "stack_tasks", "tasks", "training",
]
# public class or function -> the submodule that defines it; every other name of __all__ is a submodule
_EXPORTS = {
    "ANIL": "gradient", "Accuracy": "evaluation", "CAVIA": "gradient", "MAML": "gradient",
    "MatchingNetwork": "metric", "MetaGAN": "adversarial", "PrototypicalNetwork": "metric", "Reptile": "gradient",
    "SiameseNetwork": "metric", "Task": "tasks", "default_device": "runtime", "evaluate_episodes": "evaluation",
    "glue": "book", "mean_ci": "evaluation", "seed_everything": "runtime", "stack_tasks": "tasks",
}

if TYPE_CHECKING:
    from . import (
        adversarial,
        checks,
        data,
        evaluation,
        gradient,
        memory,
        metric,
        nets,
        plotting,
        reduction,
        rl,
        runtime,
        tasks,
        training,
    )
    from .adversarial import MetaGAN
    from .evaluation import Accuracy, evaluate_episodes, mean_ci
    from .gradient import ANIL, CAVIA, MAML, Reptile
    from .metric import MatchingNetwork, PrototypicalNetwork, SiameseNetwork
    from .runtime import default_device, seed_everything
    from .tasks import Task, stack_tasks


def __getattr__(name: str) -> Any:
    """Import a submodule, or the submodule defining a public name, on first use (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module 'metalearn_lite' has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS.get(name, name)}", __name__)
    return getattr(module, name) if name in _EXPORTS else module


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
