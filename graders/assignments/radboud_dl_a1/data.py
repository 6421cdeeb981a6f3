"""The digits task exactly as the handout prepares it, from scikit-learn's bundled file.

The handout's printed numbers depend on every detail here: global (not
per-pixel) standardisation, the permutation from ``default_rng(12345)`` and the
898/899 split. The test half stays on the trusted side; only its inputs are
sent to the sandbox.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import cache

import numpy as np

from graders.datasets import digits
from graders.sandbox.runtime import Replacements, cache_root

N_TRAIN = 898
SHUFFLE_SEED = 12345


@dataclass(frozen=True)
class DigitsTask:
    """Standardised 8x8 digits, label 1.0 for 0-4 and 0.0 for 5-9, split as the handout does."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@cache
def sandbox_digits() -> Replacements:
    """scikit-learn's bundled digits as a sandbox sees them: the training half only.

    The whole file ships inside scikit-learn, test labels included, and the
    sandbox sees the installed packages: a submission could train on the test
    half. Inside, ``load_digits()`` returns the training images (in the
    file's order) and nothing else. Built once per scikit-learn file.
    """
    original = digits.bundled_file()
    if original is None:
        return ()
    packed = original.read_bytes()
    digest = hashlib.sha256(packed).hexdigest()[:16]
    target = cache_root() / "held-out" / f"digits-train-{digest}.csv.gz"
    if not target.is_file():
        rows = [r for r in gzip.decompress(packed).decode().splitlines() if r.strip()]
        train = sorted(np.random.default_rng(SHUFFLE_SEED).permutation(len(rows))[:N_TRAIN])
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(gzip.compress("".join(rows[i] + "\n" for i in train).encode(),
                                          mtime=0))
        partial.chmod(0o644)
        os.replace(partial, target)
    return ((target, str(original)),)


@cache  # a worker grades many submissions
def digits_task() -> DigitsTask:
    """Build the task from scikit-learn's bundled digits (no network needed).

    The file is read as ``load_digits()`` reads it, without importing
    scikit-learn: that import alone cost about 1 s of every cold ``dlgrade grade``.
    Arrays are float64: ``x`` is (N, 64) and ``y`` is (N,), as the handout has them.
    """
    x, labels = digits.load()
    y = (labels < 5).astype(np.float64)
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
