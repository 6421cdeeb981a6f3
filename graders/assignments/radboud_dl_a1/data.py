"""The digits task exactly as the handout prepares it (trusted side: may use scikit-learn).

The handout's printed numbers depend on every detail here: global (not
per-pixel) standardisation, the permutation from ``default_rng(12345)`` and the
898/899 split. The test half stays on the trusted side; only its inputs are
sent to the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

N_TRAIN = 898
SHUFFLE_SEED = 12345


@dataclass(frozen=True)
class DigitsTask:
    """Standardised 8x8 digits, label 1.0 for 0-4 and 0.0 for 5-9, split as the handout does."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@cache  # a worker grades many submissions; importing scikit-learn alone costs ~1 s
def digits_task() -> DigitsTask:
    """Build the task from scikit-learn's bundled digits (no network needed).

    Arrays are float64: ``x`` is (N, 64) and ``y`` is (N,), as the handout has them.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float64)
    y = (np.asarray(digits.target) < 5).astype(np.float64)
    x = (x - x.mean()) / x.std()
    order = np.random.default_rng(SHUFFLE_SEED).permutation(x.shape[0])
    x, y = x[order], y[order]
    x.flags.writeable = y.flags.writeable = False  # cached and shared between gradings
    return DigitsTask(
        x_train=x[:N_TRAIN],
        y_train=y[:N_TRAIN],
        x_test=x[N_TRAIN:],
        y_test=y[N_TRAIN:],
    )
