"""Reference ``nndl/neural_net.py``: the course's first TwoLayerNet, in one file (secret).

Weights use the (out, in) layout, ``W1`` (H, D) and ``W2`` (C, H), so a
layer is ``x @ W.T + b``. The network is affine - ReLU - affine - softmax,
with loss ``mean cross-entropy + 0.5 * reg * (sum(W1**2) + sum(W2**2))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class TwoLayerNet:
    """Two-layer fully connected classifier trained by minibatch SGD.

    Initialisation draws ``W1`` then ``W2`` from ``np.random``, in that order,
    because the handout's toy numbers depend on it.
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4
    ) -> None:
        self.params: dict[str, np.ndarray] = {
            "W1": std * np.random.randn(hidden_size, input_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(output_size, hidden_size),
            "b2": np.zeros(output_size),
        }

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hidden pre-activation, hidden activation and scores, for the backward pass."""
        hidden_in = X @ self.params["W1"].T + self.params["b1"]
        hidden = np.maximum(hidden_in, 0)
        return hidden_in, hidden, hidden @ self.params["W2"].T + self.params["b2"]

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores (N, C) when ``y`` is None, else ``(loss, grads)`` with ``params``' keys."""
        hidden_in, hidden, scores = self._forward(X)
        if y is None:
            return scores

        W1, W2 = self.params["W1"], self.params["W2"]
        n = X.shape[0]

        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(n)
        data_loss = -log_probs[rows, y].mean()
        reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        dscores = np.exp(log_probs)
        dscores[rows, y] -= 1
        dscores /= n
        dhidden = (dscores @ W2) * (hidden_in > 0)
        grads = {
            "W1": dhidden.T @ X + reg * W1,
            "b1": dhidden.sum(axis=0),
            "W2": dscores.T @ hidden + reg * W2,
            "b2": dscores.sum(axis=0),
        }
        return float(data_loss + reg_loss), grads

    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray,
        y_val: np.ndarray,
        learning_rate: float = 1e-3,
        learning_rate_decay: float = 0.95,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ) -> dict[str, list[Any]]:
        """Minibatch SGD; once per epoch record accuracies and decay the learning rate.

        Minibatches are drawn with replacement from ``np.random``, so a batch
        may be larger than the training set (the toy run uses 200 of 5).
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)
        loss_history: list[float] = []
        train_acc_history: list[float] = []
        val_acc_history: list[float] = []

        for it in range(num_iters):
            batch = np.random.choice(num_train, batch_size)
            X_batch, y_batch = X[batch], y[batch]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)
            for name, grad in grads.items():
                self.params[name] = self.params[name] - learning_rate * grad

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")

            if it % iterations_per_epoch == 0:
                train_acc_history.append(float(np.mean(self.predict(X_batch) == y_batch)))
                val_acc_history.append(float(np.mean(self.predict(X_val) == y_val)))
                learning_rate *= learning_rate_decay

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (N,): the argmax of the scores."""
        return np.argmax(self._forward(X)[2], axis=1)
