"""Reference solution of Radboud NWI-IMC070 (2023) assignment 1: numpy only, secret.

Graded checks compare students against these values, and the test suite pins
them to the numbers the handout prints, so every detail (the order of random
draws in ``Linear``, the unscaled BCE gradient) follows the handout.
"""

from __future__ import annotations

import numpy as np

from graders.assignments.radboud_dl_a1.provided.handout import f, grad_x_f, grad_y_f

__all__ = [
    "Linear",
    "ReLU",
    "Sigmoid",
    "bce_loss",
    "bce_loss_grad",
    "optimize_f",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
]


def optimize_f(
    x: float, y: float, step_size: float, steps: int, decay: float = 1.0
) -> tuple[float, float, float, list[float], list[float]]:
    """Gradient descent on the handout's ``f`` with step ``step_size * decay**t``.

    Both gradients are taken at the same point before either coordinate moves,
    and the histories include the starting point (length ``steps + 1``).
    """
    x, y = float(x), float(y)
    x_hist, y_hist = [x], [y]
    for t in range(steps):
        eta = step_size * decay**t
        dx, dy = grad_x_f(x, y), grad_y_f(x, y)
        x, y = float(x - eta * dx), float(y - eta * dy)
        x_hist.append(x)
        y_hist.append(y)
    return x, y, float(f(x, y)), x_hist, y_hist


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, written so that no ``exp`` overflows for large ``|x|``."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at the pre-activation ``x`` (not at its output)."""
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) elementwise, as a new array: the input is never modified."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_grad(x: np.ndarray) -> np.ndarray:
    """1 where x > 0, else 0; the handout leaves x == 0 to the student and we pick 0."""
    return (np.asarray(x) > 0).astype(np.float64)


def bce_loss(y: np.ndarray, y_hat: np.ndarray) -> np.ndarray:
    """Elementwise binary cross-entropy, no reduction: ``fit`` averages it itself."""
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def bce_loss_grad(y: np.ndarray, y_hat: np.ndarray) -> np.ndarray:
    """d bce_loss / d y_hat elementwise; not divided by the batch size (``fit`` relies on it)."""
    return -(y / y_hat) + (1 - y) / (1 - y_hat)


class Linear:
    """Fully connected layer ``x @ W + b`` on a batch of rows.

    ``W`` is drawn as the handout does, ``rng.uniform(-a, a, size=(n_in, n_out))``
    with ``a = sqrt(6 / (n_in * n_out))``; one draw per layer, so layers built in
    order from one generator reproduce the handout's printed numbers.
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None) -> None:
        if rng is None:
            rng = np.random.default_rng()
        bound = np.sqrt(6.0 / (n_in * n_out))
        self.W = rng.uniform(-bound, bound, size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Affine map of a batch ``(N, n_in)`` to ``(N, n_out)``."""
        return x @ self.W + self.b

    def backward(self, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Store ``dW`` and ``db`` (summed over the batch) and return ``dx``."""
        self.dW = x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T

    def step(self, step_size: float) -> None:
        """One plain gradient-descent update with the stored gradients."""
        self.W -= step_size * self.dW
        self.b -= step_size * self.db


class Sigmoid:
    """Sigmoid as a layer; it has no parameters, so ``step`` does nothing."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the sigmoid elementwise."""
        return sigmoid(x)

    def backward(self, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Chain rule at the layer's input ``x``."""
        return dy * sigmoid_grad(x)

    def step(self, step_size: float) -> None:
        """Nothing to learn."""


class ReLU:
    """ReLU as a layer; it has no parameters, so ``step`` does nothing."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply max(0, x) elementwise without touching ``x``."""
        return relu(x)

    def backward(self, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Pass ``dy`` through where the input was positive."""
        return dy * relu_grad(x)

    def step(self, step_size: float) -> None:
        """Nothing to learn."""
