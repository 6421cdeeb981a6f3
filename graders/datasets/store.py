"""Installed data sets: check presence and load arrays as the courses' loaders return them.

Loading never reaches the network: a missing data set raises
``DatasetMissing`` with the command that installs it, so a training problem
is reported as skipped rather than silently scored zero.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from graders.datasets import cifar, digits, idx
from graders.datasets.errors import CorruptDataset, DatasetMissing
from graders.datasets.registry import DATA_DIR_ENV, data_dir, dataset_dir, spec

_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """The four arrays of a data set, named as Keras' ``load_data`` names them.

    - ``mnist``, ``fashion-mnist``: x (N, 28, 28) uint8, y (N,) uint8, exactly
      ``tf.keras.datasets.*.load_data()``.
    - ``cifar-10``: x (N, 32, 32, 3) uint8, y (N,) int64, the layout of the
      course's ``load_CIFAR10`` (which also casts x to float64).
    - ``digits``: x (1797, 64) float64, y (1797,) int64, ``load_digits()``
      in full as ``x_train``. The package defines no split, so the test
      arrays are empty and each assignment applies its handout's own.
    """

    name: str
    x_train: NDArray[Any]
    y_train: NDArray[Any]
    x_test: NDArray[Any]
    y_test: NDArray[Any]


def fetch_command(name: str, root: Path | None = None) -> str:
    """The shell command that installs ``name`` where ``load(name, root=root)`` looks."""
    command = f"dlgrade datasets fetch {spec(name).name}"
    if root is not None and Path(root).absolute() != data_dir():
        command = f"{DATA_DIR_ENV}={shlex.quote(str(Path(root).absolute()))} {command}"
    return command


def missing_files(name: str, root: Path | None = None) -> list[Path]:
    """Files of ``name`` that are not in the data directory (none for bundled sets)."""
    folder = dataset_dir(name, root)
    return [folder / f.filename for f in spec(name).files if not (folder / f.filename).is_file()]


def is_installed(name: str, *, root: Path | None = None) -> bool:
    """Whether every file is present; checksums are verified by ``fetch``, not here."""
    return not missing_files(name, root)


def installed_size(name: str, root: Path | None = None) -> int:
    """Bytes the data set's files take on disk now."""
    folder = dataset_dir(name, root)
    return sum(os.path.getsize(folder / f.filename) for f in spec(name).files
               if (folder / f.filename).is_file())


def load(name: str, *, root: Path | None = None) -> Dataset:
    """Load an installed data set; ``root`` overrides ``data_dir()``.

    Raises ``DatasetMissing`` (with the fetch command) when files are absent
    and ``CorruptDataset`` when they do not parse.
    """
    entry = spec(name)
    if entry.bundled_with:
        return _load_digits()
    absent = missing_files(name, root)
    if absent:
        listed = ", ".join(p.name for p in absent)
        raise DatasetMissing(entry.name, fetch_command(entry.name, root),
                             f"missing in {dataset_dir(name, root)}: {listed}")
    folder = dataset_dir(name, root)
    try:
        if entry.name == "cifar-10":
            return Dataset(entry.name, *cifar.read_archive(folder / cifar.ARCHIVE))
        return _load_idx(entry.name, folder)
    except CorruptDataset as exc:
        raise CorruptDataset(f"{exc} Run `{fetch_command(entry.name, root)}` to download "
                             "it again.") from exc


def _load_idx(name: str, folder: Path) -> Dataset:
    arrays: dict[str, NDArray[Any]] = {}
    for key, filename in _MNIST_FILES.items():
        magic = idx.IMAGES_MAGIC if key.startswith("x") else idx.LABELS_MAGIC
        arrays[key] = idx.read_idx(folder / filename, magic=magic)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        where = f"{folder / _MNIST_FILES[f'x_{split}']}"
        if x.shape[1:] != (28, 28):
            raise CorruptDataset(f"{where}: images are {x.shape[1]}×{x.shape[2]}, "
                                 "expected 28×28.")
        if len(x) != len(y):
            raise CorruptDataset(f"{where}: {len(x)} images but {len(y)} labels in "
                                 f"{_MNIST_FILES[f'y_{split}']}.")
        if y.size and y.max() > 9:
            raise CorruptDataset(f"{folder / _MNIST_FILES[f'y_{split}']}: labels must lie "
                                 f"in 0-9, found {y.max()}.")
    return Dataset(name, **arrays)


def _load_digits() -> Dataset:
    try:
        x, y = digits.load()  # the file itself: importing scikit-learn costs ~1 s
    except FileNotFoundError as exc:
        raise DatasetMissing("digits", "pip install scikit-learn", str(exc)) from exc
    except (ValueError, OSError, EOFError) as exc:
        raise CorruptDataset(f"scikit-learn's digits.csv.gz: {exc}") from exc
    return Dataset("digits", x, y, np.empty((0, x.shape[1])), np.empty(0, dtype=np.int64))
