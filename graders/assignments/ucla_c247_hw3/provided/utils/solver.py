"""The course's ``utils/solver.py``: minibatch SGD training for the ``nndl`` models.

The grader trains a student's ``fc_net.TwoLayerNet`` with this class for
``fc_net.cifar10``, so the training loop is the course's, never the
student's. Provided code: runs in the sandbox, numpy only, and draws its
minibatches from ``np.random`` (seed it for a reproducible run).

    solver = Solver(model, data, update_rule="sgd",
                    optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
                    num_epochs=15, batch_size=100, print_every=100)
    solver.train()

``data`` holds ``X_train``, ``y_train``, ``X_val`` and ``y_val``. The model
needs a ``params`` dict of arrays and ``loss(X, y=None)``, which returns
scores without ``y`` and ``(loss, grads)`` with it. After ``train()`` the
model holds the parameters that scored best on the validation set.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

Config = dict[str, Any]
UpdateRule = Callable[[np.ndarray, np.ndarray, Config], tuple[np.ndarray, Config]]


class Model(Protocol):
    """What the Solver needs from a model: the course's ``params`` dict and ``loss``."""

    params: dict[str, np.ndarray]

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any: ...


def sgd(w: np.ndarray, dw: np.ndarray, config: Config | None = None) -> tuple[np.ndarray, Config]:
    """Vanilla SGD, ``w - learning_rate * dw``; ``config`` carries the (decayed) learning rate."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


UPDATE_RULES: dict[str, UpdateRule] = {"sgd": sgd}


class Solver:
    """Train a classification model with minibatch updates, the course's way.

    Per step: one minibatch sampled with replacement, one ``model.loss``,
    one update per parameter. Per epoch: the learning rate is multiplied by
    ``lr_decay``, and accuracy is measured on up to 1,000 training samples
    and on the whole validation set; the best validation parameters are kept.
    """

    def __init__(
        self,
        model: Model,
        data: Mapping[str, np.ndarray],
        update_rule: str = "sgd",
        optim_config: Config | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        print_every: int = 10,
        verbose: bool = True,
    ) -> None:
        if update_rule not in UPDATE_RULES:
            known = ", ".join(sorted(UPDATE_RULES))
            raise ValueError(f"update_rule={update_rule!r} is not one of: {known}")
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]
        self.update_rule = UPDATE_RULES[update_rule]
        self.optim_config: Config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.print_every = print_every
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        """Fresh bookkeeping, and one optimiser config per parameter (each decays separately)."""
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs: dict[str, Config] = {
            name: dict(self.optim_config) for name in self.model.params
        }

    def _step(self) -> None:
        """One minibatch update of every parameter."""
        num_train = self.X_train.shape[0]
        batch = np.random.choice(num_train, self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = next_config

    def check_accuracy(
        self,
        X: np.ndarray,
        y: np.ndarray,
        num_samples: int | None = None,
        batch_size: int = 100,
    ) -> float:
        """Share of ``X`` classified as ``y`` (on a random subset of ``num_samples`` if given)."""
        n = X.shape[0]
        if num_samples is not None and n > num_samples:
            subset = np.random.choice(n, num_samples)
            X, y, n = X[subset], y[subset], num_samples
        predictions = [
            np.argmax(self.model.loss(X[start : start + batch_size]), axis=1)
            for start in range(0, n, batch_size)
        ]
        return float(np.mean(np.concatenate(predictions) == y))

    def train(self) -> None:
        """Run ``num_epochs`` epochs, then leave the best validation parameters in the model."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")

            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    config["learning_rate"] *= self.lr_decay

            if t == 0 or t == num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=1000)
                val_acc = self.check_accuracy(self.X_val, self.y_val)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                if self.verbose:
                    print(
                        f"(Epoch {self.epoch} / {self.num_epochs}) "
                        f"train acc: {train_acc:f}; val_acc: {val_acc:f}"
                    )
                if val_acc > self.best_val_acc:
                    self.best_val_acc = val_acc
                    self.best_params = copy.deepcopy(self.model.params)

        if self.best_params:
            self.model.params = self.best_params
