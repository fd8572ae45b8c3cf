"""The story generator, checked by an independent reader that only parses the generated text."""

import re

import pytest
import torch

from metalearn_lite.data import stories as S

MOVE = re.compile(r"^(\w+) (?:moved|went|journeyed|travelled|went back) (?:back )?to the (\w+)\.$")
TAKE = re.compile(r"^(\w+) (?:picked up|got|grabbed|took) the (\w+)\.$")
DROP = re.compile(r"^(\w+) (?:dropped|discarded|put down|left) the (\w+)\.$")


def read_story(sentences):
    """Replay the text: where each person is, who holds what, where things were dropped."""
    place, holder, dropped_at = {}, {}, {}
    for sentence in sentences:
        if m := MOVE.match(sentence):
            place[m[1]] = m[2]
        elif m := TAKE.match(sentence):
            holder[m[2]] = m[1]
            dropped_at.pop(m[2], None)
        elif m := DROP.match(sentence):
            holder.pop(m[2], None)  # tolerate a drop whose pick-up was left out
            dropped_at[m[2]] = place[m[1]]
        else:
            raise AssertionError(f"unparsable sentence {sentence!r}")
    return place, holder, dropped_at


def expected_answer(story):
    place, holder, dropped_at = read_story(story.sentences)
    if m := re.fullmatch(r"Where is (\w+)\?", story.question):
        return place[m[1]]
    if m := re.fullmatch(r"Where is the (\w+)\?", story.question):
        return place[holder[m[1]]] if m[1] in holder else dropped_at[m[1]]
    if m := re.fullmatch(r"Is (\w+) in the (\w+)\?", story.question):
        return "yes" if place[m[1]] == m[2] else "no"
    raise AssertionError(f"unknown question {story.question!r}")


@pytest.mark.parametrize("task", [1, 2, 6])
def test_answers_agree_with_an_independent_reading(task):
    stories = S.generate(task, 400, torch.Generator().manual_seed(task), max_sentences=15)
    for story in stories:
        assert story.answer == expected_answer(story), story


@pytest.mark.parametrize("task", [1, 2, 6])
def test_supporting_sentences_suffice(task):
    """Keeping only the supporting sentences (plus, for task 2, nothing else) gives the same answer."""
    for story in S.generate(task, 300, torch.Generator().manual_seed(10 + task), max_sentences=15):
        assert all(0 <= i < len(story.sentences) for i in story.supporting)
        kept = [story.sentences[i] for i in sorted(story.supporting)]
        assert expected_answer(S.Story(task, tuple(kept), story.question, "", ())) == story.answer
        assert len(story.supporting) == (2 if task == 2 else 1)


def test_yes_no_answers_are_balanced_and_questions_vary():
    stories = S.generate(6, 2000, torch.Generator().manual_seed(0))
    yes = sum(s.answer == "yes" for s in stories) / len(stories)
    assert 0.45 < yes < 0.55
    assert len({s.question for s in stories}) > 20


def test_generation_is_deterministic_under_a_seed_and_lengths_in_range():
    a = S.generate(2, 50, torch.Generator().manual_seed(3), min_sentences=4, max_sentences=8)
    b = S.generate(2, 50, torch.Generator().manual_seed(3), min_sentences=4, max_sentences=8)
    assert a == b
    one = S.generate(1, 200, torch.Generator().manual_seed(3), min_sentences=3, max_sentences=6)
    assert {len(s.sentences) for s in one} == {3, 4, 5, 6}


def test_encode_pads_and_keeps_the_most_recent_sentences():
    stories = S.generate(1, 20, torch.Generator().manual_seed(0), min_sentences=6, max_sentences=9)
    vocabulary = S.build_vocabulary(stories)
    assert min(vocabulary.values()) == 1 and "mary" in vocabulary
    data = S.encode(stories, vocabulary, memory_size=5, sentence_length=6)
    assert data.stories.shape == (20, 5, 6) and data.queries.shape == (20, 6) and data.lengths.eq(5).all()
    inverse = {i: w for w, i in vocabulary.items()}
    first = [inverse[i] for i in data.stories[0, -1].tolist() if i]
    assert first == S.tokenize(stories[0].sentences[-1])
    assert inverse[data.answers[0].item()] == stories[0].answer


def test_the_full_vocabulary_covers_every_task():
    full = S.build_vocabulary()
    for task in S.TASKS:
        assert set(S.build_vocabulary(S.generate(task, 300, max_sentences=15))) <= set(full)
    assert sorted(full.values()) == list(range(1, len(full) + 1))


def test_encode_rejects_unknown_words_and_long_sentences():
    stories = S.generate(1, 5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        S.encode(stories, {"mary": 1})
    with pytest.raises(ValueError, match="more than sentence_length=2"):
        S.encode(stories, S.build_vocabulary(stories), sentence_length=2)


@pytest.mark.parametrize(("kwargs", "message"), [({"task": 3, "num_stories": 1}, "task must be one of"),
                                                 ({"task": 1, "num_stories": 0}, "num_stories"),
                                                 ({"task": 1, "num_stories": 1, "min_sentences": 5,
                                                   "max_sentences": 2}, "min_sentences")])
def test_generate_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        S.generate(**kwargs)
