"""The code Radboud's assignment 1 hands to students, as the grader runs it.

This module runs inside the sandbox next to student code, so it imports only
numpy and the standard library, and it contains nothing that is graded: no
sigmoid, ReLU, BCE or layer implementations. The grader puts these names in
place of whatever the student left in the file, so an edited helper never
changes a grade.

``train`` is the training phase of the handout's ``fit``: the handout's printed
numbers (and the ``train_digits`` problem) depend on its exact loop, so the
loop is spelled out here once, minibatches in order, without shuffling, the
last partial minibatch dropped and the elementwise BCE gradient passed on
without dividing by the minibatch size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

__all__ = [
    "Layer",
    "Net",
    "f",
    "grad_x_f",
    "grad_y_f",
    "minibatches",
    "predict",
    "train",
]

LossFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def f(x: float, y: float) -> float:
    """The function students minimise with ``optimize_f``."""
    return x**2 + y**2 + x * (y + 2) + np.cos(3 * x)


def grad_x_f(x: float, y: float) -> float:
    """df/dx, given to students so that only the descent loop is graded."""
    return 2 * x - 3 * np.sin(3 * x) + y + 2


def grad_y_f(x: float, y: float) -> float:
    """df/dy, given to students so that only the descent loop is graded."""
    return x + 2 * y


class Layer(Protocol):
    """What ``Net`` needs from a layer; students' classes match it by shape alone."""

    def forward(self, x: np.ndarray) -> np.ndarray: ...

    def backward(self, x: np.ndarray, dy: np.ndarray) -> np.ndarray: ...

    def step(self, step_size: float) -> None: ...


class Net:
    """The handout's container: layers run in order, each backward sees its own input.

    Layers do not cache anything themselves (``backward`` takes ``x``), so the
    net remembers every layer's input during ``forward`` and hands it back.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)
        self.inputs: list[np.ndarray] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run every layer in order, remembering each layer's input for ``backward``."""
        self.inputs = []
        for layer in self.layers:
            self.inputs.append(x)
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Propagate ``dy`` from the output back to the input; returns d(loss)/d(input)."""
        if len(self.inputs) != len(self.layers):
            raise RuntimeError("Net.backward called before Net.forward")
        for layer, x in zip(reversed(self.layers), reversed(self.inputs), strict=True):
            dy = layer.backward(x, dy)
        return dy

    def step(self, step_size: float) -> None:
        """Let every layer apply its stored gradients (activations do nothing)."""
        for layer in self.layers:
            layer.step(step_size)


def minibatches(
    x: np.ndarray, y: np.ndarray, mb_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_mb, y_mb)`` in order, dropping the last partial minibatch as the handout does.

    ``y`` comes back as a column ``(mb_size, 1)`` so that it lines up with the
    net's output and no loss broadcasts to ``(mb_size, mb_size)``.
    """
    if mb_size < 1:
        raise ValueError(f"mb_size must be at least 1, got {mb_size}")
    y = np.asarray(y).reshape(-1, 1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}")
    for start in range(0, x.shape[0] - mb_size + 1, mb_size):
        yield x[start : start + mb_size], y[start : start + mb_size]


def train(
    net: Net,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    epochs: int,
    learning_rate: float,
    mb_size: int,
    loss_fn: LossFn,
    loss_grad_fn: LossFn,
) -> tuple[list[float], list[float]]:
    """The training phase of the handout's ``fit``; returns per-epoch mean loss and accuracy.

    Loss and accuracy are means over the epoch's minibatches, as the handout
    prints them. ``loss_grad_fn`` is passed straight to ``net.backward`` without
    dividing by the minibatch size: the handout's numbers depend on that.
    """
    losses: list[float] = []
    accuracies: list[float] = []
    for _ in range(epochs):
        mb_losses: list[float] = []
        mb_accuracies: list[float] = []
        for x_mb, y_mb in minibatches(x_train, y_train, mb_size):
            y_hat = net.forward(x_mb)
            mb_losses.append(float(np.mean(loss_fn(y_mb, y_hat))))
            mb_accuracies.append(float(np.mean((y_hat > 0.5) == y_mb)))
            net.backward(loss_grad_fn(y_mb, y_hat))
            net.step(learning_rate)
        losses.append(float(np.mean(mb_losses)))
        accuracies.append(float(np.mean(mb_accuracies)))
    return losses, accuracies


def predict(net: Net, x: np.ndarray) -> np.ndarray:
    """The net's output for every row of ``x``, unchanged (normally probabilities, (N, 1)).

    The grader scores these outside the sandbox, so test labels never enter it.
    """
    return net.forward(x)
