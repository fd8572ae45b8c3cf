"""``data.babi.load_babi``: the real bAbI format, read from a small file the test writes in it."""

from __future__ import annotations

import pytest

from metalearn_lite.data import stories
from metalearn_lite.data.babi import load_babi

TASK_2 = """1 Mary moved to the bathroom.
2 Sandra journeyed to the bedroom.
3 Mary got the football there.
4 John went to the kitchen.
5 Where is the football? \tbathroom\t3 1
6 Mary went back to the kitchen.
7 Where is the football? \tkitchen\t3 6
1 Daniel went to the garden.
2 Where is Daniel? \tgarden\t1
"""


def test_reads_questions_with_their_stories(tmp_path):
    path = tmp_path / "qa2_two-supporting-facts_train.txt"
    path.write_text(TASK_2, encoding="utf-8")
    loaded = load_babi(path)
    assert [s.task for s in loaded] == [2, 2, 2]
    first, second, third = loaded
    assert first.sentences == ("Mary moved to the bathroom.", "Sandra journeyed to the bedroom.",
                               "Mary got the football there.", "John went to the kitchen.")
    assert (first.question, first.answer, first.supporting) == ("Where is the football?", "bathroom", (2, 0))
    assert len(second.sentences) == 5 and second.sentences[-1] == "Mary went back to the kitchen."
    assert second.supporting == (2, 4), "line 6 is the fifth statement: questions are not statements"
    assert third.sentences == ("Daniel went to the garden.",) and third.supporting == (0,), "a new story"
    encoded = stories.encode(loaded, stories.build_vocabulary(loaded))
    assert encoded.stories.shape[:2] == (3, 5) and encoded.lengths.tolist() == [4, 5, 1]


@pytest.mark.parametrize(("content", "message"), [
    ("1 Mary went home.\n3 Where is Mary? \thome\t1\n", "does not follow"),
    ("Mary went home.\n", "expected 'ID text'"),
    ("1 Mary went home.\n2 Where is Mary? \thome\n", "tab-separated fields"),
    ("1 Mary went home.\n2 Where is Mary? \thome\t7\n", "supporting lines '7'"),
    ("1 Mary went home.\n", "no question lines"),
])
def test_malformed_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "qa1_single-supporting-fact_test.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_babi(path)


def test_the_task_number_comes_from_the_name_or_the_argument(tmp_path):
    path = tmp_path / "my_stories.txt"
    path.write_text(TASK_2, encoding="utf-8")
    with pytest.raises(ValueError, match="task: the file name"):
        load_babi(path)
    assert {s.task for s in load_babi(path, task=2)} == {2}
    with pytest.raises(FileNotFoundError, match="not found"):
        load_babi(tmp_path / "missing.txt")
