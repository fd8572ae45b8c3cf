"""A small generator of bAbI-style stories and questions (in the spirit of Weston et al., 2015).

The bAbI tasks test whether a reader can find the sentences that answer a question in a short
story. This module simulates a tiny world (people moving between rooms, picking up and dropping
objects) and narrates it, for three of the twenty task types:

* task 1, *single supporting fact*: "Where is Mary?" after "Mary went to the kitchen.";
* task 2, *two supporting facts*: "Where is the apple?" needs who holds the apple and where that
  person went;
* task 6, *yes/no questions*: "Is John in the garden?".

Every story comes with its answer and the indices of the supporting sentences. The vocabulary is
fixed and small, so :func:`encode` turns stories into integer tensors for the end-to-end memory
network of §3.2 (``notebooks/04_memory_augmented.ipynb``) (:mod:`metalearn_lite.memory.memn2n`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .. import checks

__all__ = [
    "ACTORS",
    "LOCATIONS",
    "OBJECTS",
    "TASKS",
    "EncodedStories",
    "Story",
    "build_vocabulary",
    "encode",
    "generate",
    "tokenize",
]

ACTORS = ("Mary", "John", "Daniel", "Sandra")
LOCATIONS = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")
MOVE_VERBS = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
TAKE_VERBS = ("picked up", "got", "grabbed", "took")
DROP_VERBS = ("dropped", "discarded", "put down", "left")
TASKS = {1: "single supporting fact", 2: "two supporting facts", 6: "yes/no questions"}


@dataclass(frozen=True)
class Story:
    """One story with its question.

    ``sentences`` are the statements in order; ``supporting`` holds the indices (into
    ``sentences``) of the statements the answer depends on.
    """

    task: int
    sentences: tuple[str, ...]
    question: str
    answer: str
    supporting: tuple[int, ...]


def _pick(options: Sequence, generator: torch.Generator):
    return options[int(torch.randint(len(options), (1,), generator=generator))]


class _World:
    """Where everyone is, who carries what, and which sentence last said so."""

    def __init__(self, generator: torch.Generator) -> None:
        self.g = generator
        self.sentences: list[str] = []
        self.place: dict[str, str] = {}  # actor -> location
        self.moved_at: dict[str, int] = {}  # actor -> index of the sentence that put them there
        self.holder: dict[str, str] = {}  # object -> actor carrying it
        self.dropped: dict[str, tuple[str, int, int]] = {}  # object -> (location, drop sentence, move sentence)
        self.taken_at: dict[str, int] = {}  # object -> sentence where its holder picked it up

    def move(self) -> None:
        actor = _pick(ACTORS, self.g)
        here = self.place.get(actor)
        place = _pick([loc for loc in LOCATIONS if loc != here], self.g)
        self.place[actor], self.moved_at[actor] = place, len(self.sentences)
        self.sentences.append(f"{actor} {_pick(MOVE_VERBS, self.g)} the {place}.")

    def take(self) -> bool:
        actors = [a for a in ACTORS if a in self.place]
        free = [o for o in OBJECTS if o not in self.holder]
        if not actors or not free:
            return False
        actor, obj = _pick(actors, self.g), _pick(free, self.g)
        self.holder[obj], self.taken_at[obj] = actor, len(self.sentences)
        self.dropped.pop(obj, None)
        self.sentences.append(f"{actor} {_pick(TAKE_VERBS, self.g)} the {obj}.")
        return True

    def drop(self) -> bool:
        carried = sorted(self.holder)
        if not carried:
            return False
        obj = _pick(carried, self.g)
        actor = self.holder.pop(obj)
        self.dropped[obj] = (self.place[actor], len(self.sentences), self.moved_at[actor])
        self.sentences.append(f"{actor} {_pick(DROP_VERBS, self.g)} the {obj}.")
        return True

    def object_location(self, obj: str) -> tuple[str, tuple[int, ...]]:
        if obj in self.holder:
            actor = self.holder[obj]
            return self.place[actor], tuple(sorted((self.taken_at[obj], self.moved_at[actor])))
        place, drop_at, move_at = self.dropped[obj]
        return place, tuple(sorted((move_at, drop_at)))


def _story(task: int, length: int, generator: torch.Generator) -> Story:
    world = _World(generator)
    if task in (1, 6):
        for _ in range(length):
            world.move()
        actor = _pick(sorted(world.place), generator)
        support = (world.moved_at[actor],)
        if task == 1:
            return Story(task, tuple(world.sentences), f"Where is {actor}?", world.place[actor], support)
        if bool(torch.rand(1, generator=generator) < 0.5):
            place, answer = world.place[actor], "yes"
        else:
            place, answer = _pick([p for p in LOCATIONS if p != world.place[actor]], generator), "no"
        return Story(task, tuple(world.sentences), f"Is {actor} in the {place}?", answer, support)
    # task 2: at least one person somewhere, then a random mix of moves, pick-ups and drops
    world.move()
    while len(world.sentences) < length or not world.taken_at:
        u = float(torch.rand(1, generator=generator))
        if u < 0.5 or not (world.take() if u < 0.8 else world.drop()):
            world.move()
    obj = _pick(sorted(world.taken_at), generator)
    place, support = world.object_location(obj)
    return Story(task, tuple(world.sentences), f"Where is the {obj}?", place, support)


def generate(
    task: int,
    num_stories: int,
    generator: torch.Generator | None = None,
    min_sentences: int = 2,
    max_sentences: int = 10,
) -> list[Story]:
    """``num_stories`` independent stories of one task, lengths uniform in the given range.

    Args:
        task: 1, 2 or 6 (see :data:`TASKS`).
        num_stories: how many.
        generator: the source of randomness; the same seed gives the same stories. ``None`` draws
            from torch's global generator, which :func:`~metalearn_lite.seed_everything` seeds.
        min_sentences, max_sentences: statements per story (task 2 may add a few to make sure
            an object was picked up).
    """
    checks.one_of("task", task, sorted(TASKS))
    checks.positive_ints(num_stories=num_stories, min_sentences=min_sentences, max_sentences=max_sentences)
    if not min_sentences <= max_sentences:
        raise ValueError(f"need 1 <= min_sentences <= max_sentences, got {min_sentences}, {max_sentences}")
    checks.generator("generator", generator)
    lengths = torch.randint(min_sentences, max_sentences + 1, (num_stories,), generator=generator)
    return [_story(task, int(n), generator) for n in lengths]


def tokenize(text: str) -> list[str]:
    """Lower-case words without punctuation: ``"Where is Mary?"`` -> ``["where", "is", "mary"]``."""
    return re.findall(r"[a-z]+", text.lower())


def build_vocabulary(stories: Sequence[Story] | None = None) -> dict[str, int]:
    """Word -> index, sorted alphabetically, starting at 1 (index 0 is padding).

    With ``stories=None``, every word the generator can produce, so one vocabulary serves all
    tasks; otherwise the words of the given stories only.
    """
    words = set()
    if stories is None:
        phrases = (*ACTORS, *LOCATIONS, *OBJECTS, *MOVE_VERBS, *TAKE_VERBS, *DROP_VERBS, "the where is in yes no")
        for phrase in phrases:
            words.update(tokenize(phrase))
    else:
        for story in stories:
            for text in (*story.sentences, story.question, story.answer):
                words.update(tokenize(text))
    return {word: i + 1 for i, word in enumerate(sorted(words))}


class EncodedStories(NamedTuple):
    """Stories as padded integer tensors (0 = padding).

    Shapes:
        stories ``(B, S, L)``: the last ``S <= memory_size`` sentences of each story in order, padded
        at the end (``S`` is the longest story's length, at most ``memory_size``);
        queries ``(B, L)``; answers ``(B,)``; lengths ``(B,)`` the number of sentences kept.
    """

    stories: Tensor
    queries: Tensor
    answers: Tensor
    lengths: Tensor


def encode(stories: Sequence[Story], vocabulary: dict[str, int], memory_size: int = 50,
           sentence_length: int = 8) -> EncodedStories:
    """Turn stories into tensors, keeping the most recent ``memory_size`` sentences of each.

    Raises:
        ValueError: a word missing from ``vocabulary`` or a sentence longer than ``sentence_length``.
    """
    if not stories:
        raise ValueError("stories must be a non-empty sequence of Story")

    def ids(text: str) -> list[int]:
        words = tokenize(text)
        unknown = [w for w in words if w not in vocabulary]
        if unknown:
            raise ValueError(f"words {unknown} of {text!r} are not in the vocabulary")
        if len(words) > sentence_length:
            raise ValueError(f"{text!r} has {len(words)} words, more than sentence_length={sentence_length}")
        return [vocabulary[w] for w in words] + [0] * (sentence_length - len(words))

    slots = max(1, min(memory_size, max(len(s.sentences) for s in stories)))
    memory = torch.zeros(len(stories), slots, sentence_length, dtype=torch.long)
    lengths = torch.zeros(len(stories), dtype=torch.long)
    for b, story in enumerate(stories):
        kept = story.sentences[-memory_size:]
        lengths[b] = len(kept)
        if kept:
            memory[b, : len(kept)] = torch.tensor([ids(s) for s in kept])
    queries = torch.tensor([ids(s.question) for s in stories])
    answers = torch.tensor([vocabulary[s.answer] for s in stories])
    return EncodedStories(memory, queries, answers, lengths)
