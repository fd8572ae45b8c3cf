"""Meta-reinforcement learning: MAML on the 2-D navigation tasks of Finn et al. (2017).

One concept per module: the environment (:mod:`.navigation`), the Gaussian policy
(:mod:`.policy`), sampling (:mod:`.rollout`), returns-to-go (:mod:`.returns`), the linear feature
value baseline (:mod:`.value_baseline`), policy-gradient surrogates including ProMP's LVC
(:mod:`.policy_gradient`), MAML-RL on top of :class:`metalearn_lite.MAML` (:mod:`.maml_rl`) and the
training/evaluation loops (:mod:`.training`). Taught in §4.3 (``notebooks/09_meta_rl.ipynb``).
"""

from .maml_rl import MetaBatch, PolicyMAML, adapt_to_tasks, maml_rl_loss, policy_maml
from .navigation import Navigation2D, navigation_step
from .policy import GaussianMLPPolicy, apply_policy, gaussian_log_prob, sample_actions, split_output
from .policy_gradient import ESTIMATORS, compute_advantages, surrogate_loss
from .returns import discounted_returns
from .rollout import Trajectories, rollout
from .training import Adaptation, evaluate_adaptation, train_maml_rl, train_pretrained
from .value_baseline import baseline_features, linear_feature_baseline

__all__ = [
    "ESTIMATORS",
    "Adaptation",
    "GaussianMLPPolicy",
    "MetaBatch",
    "PolicyMAML",
    "Navigation2D",
    "Trajectories",
    "adapt_to_tasks",
    "apply_policy",
    "baseline_features",
    "compute_advantages",
    "discounted_returns",
    "evaluate_adaptation",
    "gaussian_log_prob",
    "linear_feature_baseline",
    "maml_rl_loss",
    "navigation_step",
    "policy_maml",
    "rollout",
    "sample_actions",
    "split_output",
    "surrogate_loss",
    "train_maml_rl",
    "train_pretrained",
]
