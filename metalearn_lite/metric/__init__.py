"""Metric-based meta-learning: learn an embedding in which a fixed rule classifies new classes.

``losses`` (contrastive, triplet with batch-hard and semi-hard mining), ``center_loss``, ``base``
(what every episodic metric learner shares), ``siamese``, ``matching``, ``protonet``, ``relation``
(relation networks: a learned comparison),
``neighbours`` (the nearest-neighbour baseline), ``training`` (episodic training) and
``evaluation`` (embed a test set once, then sample episodes). Nothing is fine-tuned on a new task.
Taught in §3.1 (``notebooks/03_metric_learning.ipynb``); compared with the gradient-based learners in
§4.2 (``notebooks/08_few_shot.ipynb``).
"""

from .base import EpisodicLearner, check_support, class_mask
from .center_loss import CenterLoss, center_loss, center_update
from .evaluation import embed_all, evaluate_embedded
from .losses import (
    BatchHardTripletLoss,
    ContrastiveLoss,
    SemiHardTripletLoss,
    TripletLoss,
    batch_hard_triplet_loss,
    contrastive_loss,
    pairwise_distances,
    semi_hard_triplet_loss,
    triplet_loss,
)
from .matching import FullContextEmbedding, MatchingNetwork, matching_log_probs
from .neighbours import NearestNeighbour, nearest_neighbour_logits
from .protonet import PrototypicalNetwork, prototypes, prototypical_logits
from .relation import RelationNetwork
from .siamese import SiameseNetwork, verification_loss
from .training import train_metric_learner

__all__ = [
    "BatchHardTripletLoss",
    "CenterLoss",
    "ContrastiveLoss",
    "EpisodicLearner",
    "FullContextEmbedding",
    "MatchingNetwork",
    "NearestNeighbour",
    "PrototypicalNetwork",
    "RelationNetwork",
    "SemiHardTripletLoss",
    "SiameseNetwork",
    "TripletLoss",
    "batch_hard_triplet_loss",
    "center_loss",
    "center_update",
    "check_support",
    "class_mask",
    "contrastive_loss",
    "embed_all",
    "evaluate_embedded",
    "matching_log_probs",
    "nearest_neighbour_logits",
    "pairwise_distances",
    "prototypes",
    "prototypical_logits",
    "semi_hard_triplet_loss",
    "train_metric_learner",
    "triplet_loss",
    "verification_loss",
]
