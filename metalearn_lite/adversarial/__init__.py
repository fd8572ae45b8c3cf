"""Adversarial few-shot learning: MetaGAN's fake class on top of MAML.

``fake_class`` (the fake logit and the two GAN losses), ``generator`` (fakes conditioned on a task's
support set) and ``metagan`` (the discriminator-generator pair and its training step). Taught in
§3.4 (``notebooks/06_adversarial.ipynb``).
"""

from .fake_class import fake_class_loss, fake_probability, generator_loss, with_fake_logit
from .generator import TaskConditionedGenerator
from .metagan import MetaGAN

__all__ = [
    "MetaGAN",
    "TaskConditionedGenerator",
    "fake_class_loss",
    "fake_probability",
    "generator_loss",
    "with_fake_logit",
]
