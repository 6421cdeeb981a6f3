"""Reference ``nndl/layers.py``: affine and ReLU layers, forward and backward (secret).

Laid out like a student's file so that the same module can be graded as a
submission. ``softmax_loss`` is the course's, not part of this solution: it
comes from the provided ``softmax.py``.
"""

from __future__ import annotations

import numpy as np

AffineCache = tuple[np.ndarray, np.ndarray, np.ndarray]


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineCache]:
    """``x`` (N, d_1, ..., d_k) flattened per row, times ``w`` (D, M), plus ``b`` (M,)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)`` for upstream ``dout`` (N, M); ``dx`` keeps ``x``'s original shape."""
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max(0, x)`` elementwise; the cache is ``x``."""
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``dout`` where the input was positive, 0 elsewhere (the subgradient at 0 is 0).

    Writes into a new array, never into ``dout``: the caller may reuse it.
    """
    return np.where(cache > 0, dout, 0.0)
