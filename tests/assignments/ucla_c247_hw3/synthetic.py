"""A small CIFAR-10 look-alike in the official archive format, learnable or not.

Each class has a fixed random pattern; an image is its class's pattern plus
noise, in the archive's uint8 rows (1024 red, 1024 green, 1024 blue values).
Sizes are small so the training problems run end to end in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.datasets.dataset_builders import py2_batch, write_cifar


def write_synthetic_cifar(root: Path, *, n_train: int = 600, n_test: int = 200,
                          learnable: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """Write ``root/cifar-10/cifar-10-python.tar.gz``; returns the arrays as written.

    With ``learnable=False`` the labels are drawn independently of the images.
    """
    rng = np.random.default_rng(seed)
    patterns = rng.uniform(-1.0, 1.0, size=(10, 3072))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, size=n)
        x = 128 + 50 * patterns[y] + rng.normal(scale=40.0, size=(n, 3072))
        if not learnable:
            y = rng.integers(0, 10, size=n)
        return np.clip(np.rint(x), 0, 255).astype(np.uint8), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    batches = {}
    for i, rows in enumerate(np.array_split(np.arange(n_train), 5), start=1):
        batches[f"data_batch_{i}"] = py2_batch(x_train[rows], [int(v) for v in y_train[rows]],
                                               b"training batch %d of 5" % i)
    batches["test_batch"] = py2_batch(x_test, [int(v) for v in y_test], b"testing batch 1 of 1")
    write_cifar(root / "cifar-10" / "cifar-10-python.tar.gz", batches)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
