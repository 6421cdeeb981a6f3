"""The MNIST arrays the grader hands the numpy part, and MNIST-like samples (trusted side).

Students load MNIST with ``tf.keras.datasets.mnist.load_data()``, which
cannot run in the sandbox; the grader puts ``x_train``, ``y_train`` and
``x_test`` in the notebook's namespace instead, exactly as that loader
returns them (uint8 images (N, 28, 28), uint8 labels). ``y_test`` is never
supplied: the test labels stay on the trusted side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graders.datasets import DatasetError, load

# Without MNIST, loading still needs arrays to run the notebook's loading cell on; these
# stand-ins are never scored (mnist_numpy.accuracy is skipped), so they stay small.
PLACEHOLDER_TRAIN = 600
PLACEHOLDER_TEST = 100
PLACEHOLDER_SEED = 6953


def mnist_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 28, 28) uint8 images, about 80 % zeros like MNIST digits, never normalised."""
    images = rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8)
    images[rng.random(size=images.shape) < 0.8] = 0
    return images


def mnist_preset() -> dict[str, Any]:
    """``x_train``, ``y_train``, ``x_test`` of the installed MNIST, else small stand-ins."""
    try:
        mnist = load("mnist")
    except DatasetError:
        rng = np.random.default_rng(PLACEHOLDER_SEED)
        return {"x_train": mnist_like(rng, PLACEHOLDER_TRAIN),
                "y_train": rng.integers(0, 10, size=PLACEHOLDER_TRAIN, dtype=np.uint8),
                "x_test": mnist_like(rng, PLACEHOLDER_TEST)}
    return {"x_train": mnist.x_train, "y_train": mnist.y_train, "x_test": mnist.x_test}
