"""Omniglot (Lake, Salakhutdinov & Tenenbaum, 2015): handwritten characters of many alphabets.

Three small files of the official repository (github.com/brendenlake/omniglot, MIT licence) are
enough for the book:

* ``images_background_small1.zip`` and ``images_background_small2.zip``, the two "minimal"
  background splits (5 alphabets each; Greek and Latin appear in both and are de-duplicated here,
  leaving 242 characters of 8 alphabets, 20 drawings each);
* ``all_runs.zip``, the 20 official within-alphabet 20-way one-shot classification runs.

The loader looks for the zips in ``$METALEARN_DATA/omniglot``, then in the cache folder
``$XDG_CACHE_HOME/metalearn_lite/omniglot`` (``~/.cache/...``), and otherwise downloads them (about
3 MB) from the official repository, checking each file's SHA-256 and writing it atomically
(:mod:`~metalearn_lite.data.download`). §1 (``notebooks/01_introduction.ipynb``) shows an episode;
§3.1 (``notebooks/03_metric_learning.ipynb``), §3.2 (``notebooks/04_memory_augmented.ipynb``) and
§4.2 (``notebooks/08_few_shot.ipynb``) train on these images; the official runs are scored by
:func:`~metalearn_lite.evaluation.score_runs`.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .. import checks
from ..tasks import Task
from .download import DataNotFoundError, download, find_or_download
from .download import cache_dir as download_cache_dir

__all__ = [
    "BASE_URL",
    "FILES",
    "CharacterImages",
    "OmniglotNotFoundError",
    "OneShotRun",
    "cache_dir",
    "download",
    "fetch",
    "load_background",
    "load_runs",
]

BASE_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
# file name -> (path below BASE_URL, SHA-256)
FILES = {
    "images_background_small1.zip": (
        "images_background_small1.zip",
        "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4",
    ),
    "images_background_small2.zip": (
        "images_background_small2.zip",
        "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f",
    ),
    "all_runs.zip": (
        "one-shot-classification/all_runs.zip",
        "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
    ),
}
BACKGROUND = ("images_background_small1.zip", "images_background_small2.zip")


class OmniglotNotFoundError(DataNotFoundError):
    """The Omniglot files are not on disk and could not be downloaded."""


def cache_dir() -> Path:
    """Where Omniglot downloads go: ``$XDG_CACHE_HOME/metalearn_lite/omniglot`` (``~/.cache`` by default)."""
    return download_cache_dir("omniglot")


def fetch(name: str, allow_download: bool = True, base_url: str = BASE_URL) -> Path:
    """The local path of one of the :data:`FILES`, downloading it into :func:`cache_dir` if needed.

    Raises:
        ValueError: unknown ``name``, or a file on disk whose checksum is wrong (corrupt).
        OmniglotNotFoundError: the file is nowhere on disk and could not be downloaded; the
            message lists where it looked and how to get the file.
    """
    checks.one_of("name", name, sorted(FILES))
    checks.boolean("allow_download", allow_download)
    rel, sha = FILES[name]
    return find_or_download(name, "omniglot", base_url + rel, sha, allow_download, OmniglotNotFoundError)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path} is not a readable zip file (corrupt?): {err}") from err


def _decode(data: bytes, size: int) -> np.ndarray:
    """PNG bytes -> ``(size, size)`` float32 array in [0, 1] with ink = 1 (the files draw ink black)."""
    image = Image.open(io.BytesIO(data)).convert("L")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return 1.0 - np.asarray(image, dtype=np.float32) / 255.0


@dataclass(frozen=True)
class CharacterImages:
    """Images of characters, one class per character.

    Shapes:
        images: ``(N, 1, size, size)`` float32 in [0, 1], ink = 1.
        labels: ``(N,)`` int64 in ``0 .. len(characters) - 1``.

    ``characters[c]`` is the ``(alphabet, character)`` name of class ``c``.
    """

    images: Tensor
    labels: Tensor
    characters: tuple[tuple[str, str], ...]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def alphabets(self) -> tuple[str, ...]:
        """The alphabets present, sorted."""
        return tuple(sorted({a for a, _ in self.characters}))

    def select_alphabets(self, names: Sequence[str]) -> CharacterImages:
        """The characters of the given alphabets only, relabelled ``0 .. C' - 1``."""
        unknown = set(names) - set(self.alphabets)
        if unknown:
            raise ValueError(f"unknown alphabets {sorted(unknown)}; present: {list(self.alphabets)}")
        return self._select([c for c, (a, _) in enumerate(self.characters) if a in set(names)])

    def _select(self, keep: Sequence[int]) -> CharacterImages:
        """The classes ``keep`` only, in that order, relabelled ``0 .. len(keep) - 1``."""
        new_label = torch.full((len(self.characters),), -1, dtype=torch.long)
        new_label[keep] = torch.arange(len(keep))
        mask = new_label[self.labels] >= 0
        return CharacterImages(
            self.images[mask], new_label[self.labels[mask]], tuple(self.characters[c] for c in keep)
        )

    def split(self, test_alphabets: Sequence[str]) -> tuple[CharacterImages, CharacterImages]:
        """``(meta_train, meta_test)``: the other alphabets, and ``test_alphabets``."""
        train = [a for a in self.alphabets if a not in set(test_alphabets)]
        return self.select_alphabets(train), self.select_alphabets(test_alphabets)

    def split_characters(
        self, test_fraction: float, generator: torch.Generator | None = None
    ) -> tuple[CharacterImages, CharacterImages]:
        """``(meta_train, meta_test)`` with a random ``test_fraction`` of the characters held out.

        Both halves mix every alphabet, as in the split of Santoro et al. (2016): 1,200 characters
        for training and the other 423 for testing. :meth:`split` holds out whole alphabets instead.
        """
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
        order = torch.randperm(len(self.characters), generator=generator)
        n_test = max(1, round(test_fraction * len(self.characters)))
        test, train = sorted(order[:n_test].tolist()), sorted(order[n_test:].tolist())
        return self._select(train), self._select(test)

    def with_rotations(self) -> CharacterImages:
        """Each character rotated by 0, 90, 180 and 270 degrees, each rotation a new class.

        The augmentation of Santoro et al. (2016), used by the MAML and ProtoNet papers.
        Class ``c`` rotated by ``90 * r`` degrees becomes class ``c + r * C``.
        """
        n_classes = len(self.characters)
        images = torch.cat([torch.rot90(self.images, r, dims=(2, 3)) for r in range(4)])
        labels = torch.cat([self.labels + r * n_classes for r in range(4)])
        names = tuple(
            (a, f"{ch}_rot{90 * r}" if r else ch) for r in range(4) for a, ch in self.characters
        )
        return CharacterImages(images, labels, names)


@functools.lru_cache(maxsize=4)
def _load_background_arrays(paths: tuple[Path, ...], size: int):
    drawings: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
    for path in paths:
        with _open_zip(path) as archive:
            for info in archive.infolist():
                parts = PurePosixPath(info.filename).parts
                if len(parts) != 4 or not parts[3].endswith(".png"):
                    continue
                key = (parts[1], parts[2])  # (alphabet, character)
                files = drawings.setdefault((key, path.name), [])
                files.append((parts[3], archive.read(info)))
    characters: dict[tuple[str, str], list[bytes]] = {}
    for (key, _source), files in sorted(drawings.items()):
        characters.setdefault(key, [data for _, data in sorted(files)])  # first split wins
    names = tuple(sorted(characters))
    images, labels = [], []
    for label, key in enumerate(names):
        for data in characters[key]:
            images.append(_decode(data, size))
            labels.append(label)
    return np.stack(images)[:, None], np.asarray(labels, dtype=np.int64), names


def load_background(size: int = 28, allow_download: bool = True) -> CharacterImages:
    """Both small background splits as one :class:`CharacterImages` (242 characters, 8 alphabets).

    Args:
        size: images are resized to ``size x size`` (the originals are 105 x 105).
        allow_download: fetch missing files from the official repository.
    """
    checks.positive_int("size", size)
    checks.boolean("allow_download", allow_download)
    paths = tuple(fetch(name, allow_download) for name in BACKGROUND)
    images, labels, names = _load_background_arrays(paths, size)
    return CharacterImages(torch.from_numpy(images.copy()), torch.from_numpy(labels.copy()), names)


class OneShotRun(NamedTuple):
    """One official 20-way one-shot run: 20 training drawings (one per class) and 20 test drawings.

    Shapes:
        x_train: ``(20, 1, size, size)``; x_test: ``(20, 1, size, size)``;
        y_test: ``(20,)`` the index of the training drawing of the same character.
    """

    x_train: Tensor
    x_test: Tensor
    y_test: Tensor

    def as_task(self) -> Task:
        """The run as a 20-way 1-shot :class:`~metalearn_lite.Task` (support = training drawings)."""
        return Task(self.x_train, torch.arange(len(self.x_train)), self.x_test, self.y_test)


def load_runs(size: int = 28, allow_download: bool = True) -> list[OneShotRun]:
    """The 20 official one-shot runs of Lake et al. (2015), in order ``run01 .. run20``."""
    checks.positive_int("size", size)
    checks.boolean("allow_download", allow_download)
    with _open_zip(fetch("all_runs.zip", allow_download)) as archive:
        runs = []
        for r in range(1, 21):
            lines = archive.read(f"run{r:02d}/class_labels.txt").decode().split()
            pairs = list(zip(lines[0::2], lines[1::2], strict=True))
            train_files = sorted({train for _, train in pairs})
            test_files = [test for test, _ in pairs]
            x_train = np.stack([_decode(archive.read(f), size) for f in train_files])[:, None]
            x_test = np.stack([_decode(archive.read(f), size) for f in test_files])[:, None]
            y_test = [train_files.index(train) for _, train in pairs]
            runs.append(
                OneShotRun(torch.from_numpy(x_train), torch.from_numpy(x_test), torch.tensor(y_test))
            )
    return runs
