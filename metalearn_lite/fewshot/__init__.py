"""Metric-based few-shot learners: Siamese, Matching and Prototypical networks, and their parts.

All share one shape (:class:`EpisodicLearner`): an encoder embeds support and query examples, a
fixed rule compares the embeddings, and nothing is fine-tuned on a new task. Chapter 3.1 explains
them, chapter 4.2 compares them with gradient-based learners on Omniglot.
"""

from .base import EpisodicLearner, check_support, class_mask
from .encoder import ConvEncoder, conv_block
from .evaluation import embed_all, evaluate_embedded
from .matching import FullContextEmbedding, MatchingNetwork, matching_log_probs
from .neighbours import NearestNeighbour, nearest_neighbour_logits
from .protonet import PrototypicalNetwork, prototypes, prototypical_logits
from .siamese import SiameseNetwork, verification_loss
from .training import train_episodes

__all__ = [
    "ConvEncoder",
    "EpisodicLearner",
    "FullContextEmbedding",
    "MatchingNetwork",
    "NearestNeighbour",
    "PrototypicalNetwork",
    "SiameseNetwork",
    "check_support",
    "class_mask",
    "conv_block",
    "embed_all",
    "evaluate_embedded",
    "matching_log_probs",
    "nearest_neighbour_logits",
    "prototypes",
    "prototypical_logits",
    "train_episodes",
    "verification_loss",
]
