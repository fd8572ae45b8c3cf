"""The real bAbI tasks (Weston et al., 2015), read into the same :class:`~.stories.Story` records as
the book's generator, so the memory network of §3.2 (``notebooks/04_memory_augmented.ipynb``) runs on
them unchanged.

The dataset is not downloaded here (the tests and the book run offline); a reader who has it, for
example ``tasks_1-20_v1-2/en/qa1_single-supporting-fact_train.txt``, passes the file to
:func:`load_babi`. The format, one line per sentence::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? <TAB>bathroom<TAB>1

Line numbers restart at 1 with each new story; a question line holds the question, the answer and
the numbers of its supporting lines, separated by tabs. Each question becomes one :class:`Story`
holding the statements of its story that come before it (questions are not statements).
"""

from __future__ import annotations

import re
from pathlib import Path

from .stories import Story

__all__ = ["load_babi"]

_LINE = re.compile(r"^(?P<id>\d+) (?P<text>.*)$")
_TASK = re.compile(r"qa(?P<task>\d+)_")


def load_babi(path: str | Path, task: int | None = None) -> list[Story]:
    """Every question of the bAbI file ``path`` with the story before it.

    Args:
        path: a bAbI task file (``qaN_..._train.txt`` or ``..._test.txt``).
        task: the task number recorded in each story (default: read from the file name, ``qaN_``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a line that does not follow the format (the message names the file and line),
            or no task number given and none in the file name.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be a bAbI task file, got {str(path)!r} (not found)")
    if task is None:
        match = _TASK.search(path.name)
        if match is None:
            raise ValueError(f"task: the file name {path.name!r} has no 'qaN_' to read the task number from; "
                             "pass task=N")
        task = int(match["task"])
    stories: list[Story] = []
    statements: list[str] = []
    index_of: dict[int, int] = {}  # line number -> index into statements
    previous = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw.strip("\n"))
        if match is None:
            raise ValueError(f"{path}, line {number}: expected 'ID text', got {raw!r}")
        line_id = int(match["id"])
        if line_id <= previous:  # a new story
            statements, index_of = [], {}
        elif line_id != previous + 1:
            raise ValueError(f"{path}, line {number}: line number {line_id} does not follow {previous}")
        previous = line_id
        fields = match["text"].split("\t")
        if len(fields) == 1:
            index_of[line_id] = len(statements)
            statements.append(fields[0].strip())
            continue
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: a question line holds 'question<TAB>answer<TAB>support', "
                             f"got {len(fields)} tab-separated fields")
        question, answer, support = (f.strip() for f in fields)
        try:
            supporting = tuple(index_of[int(s)] for s in support.split())
        except (KeyError, ValueError):
            raise ValueError(f"{path}, line {number}: supporting lines {support!r} are not statements of "
                             "this story") from None
        stories.append(Story(task, tuple(statements), question, answer, supporting))
    if not stories:
        raise ValueError(f"{path} holds no question lines: not a bAbI task file")
    return stories
