"""Small learnable data sets in the official IDX format, for nyu-dl-hw1's training problems."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np


def _builders() -> ModuleType:
    """``tests/datasets/dataset_builders.py``: the IDX writer written from LeCun's spec.

    That folder is not a package; its own tests import the file as
    ``dataset_builders``, so the same name is used here.
    """
    if "dataset_builders" in sys.modules:
        return sys.modules["dataset_builders"]
    path = Path(__file__).resolve().parents[2] / "datasets" / "dataset_builders.py"
    spec = importlib.util.spec_from_file_location("dataset_builders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dataset_builders"] = module
    spec.loader.exec_module(module)
    return module


builders = _builders()


@dataclass(frozen=True)
class Synthetic:
    """What was written: the four arrays and the accuracy a perfect classifier gets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    best_accuracy: float


def write_synthetic(folder: Path, *, n_train: int, n_test: int, seed: int,
                    wrong_test_labels: float = 0.0) -> Synthetic:
    """An MNIST-shaped set that small nets learn in a few epochs.

    Each class is a fixed sparse pattern of bright pixels; an image is its
    class's pattern with a fifth of the pattern dropped and some noise. A
    share ``wrong_test_labels`` of the test labels is shifted by one class,
    so even a perfect model lands on a known point of the accuracy ramp.
    """
    rng = np.random.default_rng(seed)
    patterns = (rng.random((10, 28, 28)) < 0.15) * rng.integers(120, 256, (10, 28, 28))

    def images(labels: np.ndarray) -> np.ndarray:
        x = patterns[labels] * (rng.random((labels.size, 28, 28)) > 0.2)
        noise = (rng.random(x.shape) < 0.03) * rng.integers(0, 256, x.shape)
        return np.clip(x + noise, 0, 255).astype(np.uint8)

    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    y_clean = rng.integers(0, 10, n_test).astype(np.uint8)
    shifted = rng.random(n_test) < wrong_test_labels
    y_test = np.where(shifted, (y_clean + 1) % 10, y_clean).astype(np.uint8)
    arrays = {"x_train": images(y_train), "y_train": y_train,
              "x_test": images(y_clean), "y_test": y_test}
    for key, array in arrays.items():
        builders.write_gz(folder / builders.MNIST_NAMES[key], builders.idx_bytes(array))
    return Synthetic(**arrays, best_accuracy=float(np.mean(y_test == y_clean)))
