"""Reference ``nndl/fc_net.py``: modular TwoLayerNet and FullyConnectedNet (secret).

Built from ``layers.py`` and the course's ``layer_utils.py`` through relative
imports only, like a student's file, so it can also be graded as one. Weights
use the (in, out) layout: ``W1`` (D, H). Every loss is the course's
``softmax_loss`` plus ``0.5 * reg * sum of squared weights`` (biases are not
regularised).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from .layer_utils import affine_relu_backward, affine_relu_forward, softmax_loss
from .layers import affine_backward, affine_forward

Grads = dict[str, np.ndarray]


def _no_homework4(dropout: float, use_batchnorm: bool = False) -> None:
    """Dropout and batch norm belong to homework 4; refuse them rather than ignore them."""
    if dropout > 0 or use_batchnorm:
        raise NotImplementedError("dropout and batch normalisation are not part of homework 3")


class TwoLayerNet:
    """affine - relu - affine - softmax, with the (in, out) weight layout."""

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dims: int = 100,
        num_classes: int = 10,
        dropout: float = 0,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
    ) -> None:
        _no_homework4(dropout)
        self.reg = reg
        self.params: dict[str, np.ndarray] = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dims),
            "b1": np.zeros(hidden_dims),
            "W2": weight_scale * np.random.randn(hidden_dims, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, Grads]:
        """Scores (N, C) when ``y`` is None, else ``(loss, grads)`` with ``params``' keys."""
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        dhidden, dW2, db2 = affine_backward(dscores, scores_cache)
        _, dW1, db1 = affine_relu_backward(dhidden, hidden_cache)
        grads = {
            "W1": dW1 + self.reg * p["W1"],
            "b1": db1,
            "W2": dW2 + self.reg * p["W2"],
            "b2": db2,
        }
        return float(data_loss + reg_loss), grads


class FullyConnectedNet:
    """{affine - relu} x (L - 1) - affine - softmax, for any list of hidden sizes.

    Parameters ``W1..WL`` and ``b1..bL`` are cast to ``dtype``, and inputs to
    it in ``loss``: float32 for speed in training, float64 for gradient
    checks, as the handout uses them.
    """

    def __init__(
        self,
        hidden_dims: list[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout: float = 0,
        use_batchnorm: bool = False,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: Any = np.float32,
        seed: int | None = None,
    ) -> None:
        _no_homework4(dropout, use_batchnorm)
        self.use_dropout = False
        self.use_batchnorm = False
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.seed = seed  # seeds dropout masks in homework 4; unused here
        dims = [input_dim, *hidden_dims, num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i, (n_in, n_out) in enumerate(pairwise(dims), start=1):
            self.params[f"W{i}"] = (weight_scale * np.random.randn(n_in, n_out)).astype(dtype)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | tuple[float, Grads]:
        """Scores (N, C) when ``y`` is None, else ``(loss, grads)`` with ``params``' keys."""
        p = self.params
        last = self.num_layers
        out = X.astype(self.dtype)
        caches = []
        for i in range(1, last):
            out, cache = affine_relu_forward(out, p[f"W{i}"], p[f"b{i}"])
            caches.append(cache)
        scores, scores_cache = affine_forward(out, p[f"W{last}"], p[f"b{last}"])
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        weights = [p[f"W{i}"] for i in range(1, last + 1)]
        reg_loss = 0.5 * self.reg * sum(float(np.sum(w * w)) for w in weights)

        grads: Grads = {}
        dout, dw, grads[f"b{last}"] = affine_backward(dscores, scores_cache)
        grads[f"W{last}"] = dw + self.reg * p[f"W{last}"]
        for i in range(last - 1, 0, -1):
            dout, dw, grads[f"b{i}"] = affine_relu_backward(dout, caches[i - 1])
            grads[f"W{i}"] = dw + self.reg * p[f"W{i}"]
        return float(data_loss + reg_loss), grads
