"""CIFAR-10 split as the handout's ``get_CIFAR10_data`` makes it (trusted side).

The handout trains on the first 49,000 training images, validates on the
next 1,000, tests on the first 1,000 test images, and subtracts the mean
training image. The grader tests on 1,000 test images it draws for each run
instead (a fixed, public list could be answered from the public labels);
they and their labels stay here, and the trusted side computes the
predictions from the returned parameters. Sizes come from the data set (a small synthetic set in the
official format gives a proportionally small split), so tests stay fast.

Images stay uint8 here and cross into the sandbox that way (150 MB instead
of 1.2 GB for float64); ``provided/training.py`` subtracts the float64 mean
image there, the same arithmetic as the handout's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from graders.datasets import Dataset

NUM_TRAINING = 49_000
NUM_VALIDATION = 1_000
NUM_TEST = 1_000


@dataclass(frozen=True)
class CifarSplit:
    """Images (N, 32, 32, 3) uint8 or channels first, labels int64, the float64 mean image."""

    x_train: NDArray[np.uint8]
    y_train: NDArray[np.int64]
    x_val: NDArray[np.uint8]
    y_val: NDArray[np.int64]
    x_test: NDArray[np.uint8]
    y_test: NDArray[np.int64]
    mean_image: NDArray[np.float64]

    def channels_first(self) -> CifarSplit:
        """(N, 3, 32, 32), as the course's loader hands images to the ``Solver``."""
        def chw(x: NDArray[np.uint8]) -> NDArray[np.uint8]:
            return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

        return CifarSplit(chw(self.x_train), self.y_train, chw(self.x_val), self.y_val,
                          chw(self.x_test), self.y_test,
                          np.ascontiguousarray(self.mean_image.transpose(2, 0, 1)))


def cifar_split(data: Dataset, rng: np.random.Generator) -> CifarSplit:
    """The handout's split, tested on ``NUM_TEST`` test images ``rng`` draws in random order.

    A set smaller than CIFAR-10 keeps 1 in 50 images for validation.
    """
    n = len(data.x_train)
    num_val = min(NUM_VALIDATION, max(1, n // 50))
    num_train = min(NUM_TRAINING, n - num_val)
    test = rng.permutation(len(data.x_test))[:NUM_TEST]
    x_train = np.ascontiguousarray(data.x_train[:num_train], dtype=np.uint8)
    return CifarSplit(
        x_train=x_train,
        y_train=np.asarray(data.y_train[:num_train], dtype=np.int64),
        x_val=np.ascontiguousarray(data.x_train[num_train:num_train + num_val], dtype=np.uint8),
        y_val=np.asarray(data.y_train[num_train:num_train + num_val], dtype=np.int64),
        x_test=np.ascontiguousarray(data.x_test[test], dtype=np.uint8),
        y_test=np.asarray(data.y_test[test], dtype=np.int64),
        mean_image=x_train.mean(axis=0, dtype=np.float64),
    )
