"""Runs in the sandbox: the two CIFAR-10 training runs, returning the trained parameters.

The trusted side prepares the handout's training and validation split
(``get_CIFAR10_data``) and its mean training image and sends the images as
the archive's bytes (uint8, an eighth of the float64 size); here they become
float64 minus the mean image, exactly the handout's arithmetic. Test images
and labels never come here: the grader picks the test images for each run and
computes the trained net's predictions with the reference forward pass.

Training lines written to stderr as ``dlgrade-progress: ...`` tell the
grader how far a run got if it runs out of time; there are at most about
a hundred, so they fit in the kept output.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from utils.solver import Solver

PROGRESS_LINES = 100


def centred(images: np.ndarray, mean_image: np.ndarray) -> np.ndarray:
    """``images - mean_image`` in float64, as the handout computes it (one copy, in place)."""
    out = images.astype(np.float64)
    out -= mean_image
    return out


def _count_training_calls(model: Any, total: int, what: Callable[[int], str]) -> None:
    """Wrap ``model.loss`` so that every call with labels counts as one training step."""
    loss = model.loss
    every = max(1, total // PROGRESS_LINES)
    steps = 0
    # A line at the start, so that an earlier run's last line is never taken for this one's.
    print(f"dlgrade-progress: {what(0)}", file=sys.stderr, flush=True)

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal steps
        if len(args) > 1 or kwargs.get("y") is not None:
            steps += 1
            if steps % every == 0:
                print(f"dlgrade-progress: {what(steps)}", file=sys.stderr, flush=True)
        return loss(*args, **kwargs)

    # __slots__ or a property: train without progress lines.
    with contextlib.suppress(AttributeError):
        model.loss = counted


def train_neural_net(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
                     y_val: np.ndarray, mean_image: np.ndarray, *,
                     settings: dict[str, Any], seed: int) -> Any:
    """``nndl.neural_net.TwoLayerNet(3072, 50, 10)`` trained by the student's own ``train``.

    Returns the trained ``params``.
    """
    module = sys.modules["nndl.neural_net"]
    flat = [centred(x, mean_image).reshape(x.shape[0], -1) for x in (x_train, x_val)]
    np.random.seed(seed)
    net = module.TwoLayerNet(flat[0].shape[1], 50, 10)
    iters = int(settings["num_iters"])
    _count_training_calls(net, iters, lambda k: f"iteration {k} of {iters}")
    net.train(flat[0], y_train, flat[1], y_val, verbose=False, **settings)
    return net.params


def train_fc_net(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
                 y_val: np.ndarray, mean_image: np.ndarray, *,
                 settings: dict[str, Any], seed: int) -> Any:
    """``nndl.fc_net.TwoLayerNet`` trained by the course's ``Solver`` (SGD).

    Images arrive as (N, 3, 32, 32), as the course's loader gives them to the
    Solver. Returns the trained model's ``params``.
    """
    module = sys.modules["nndl.fc_net"]
    data = {"X_train": centred(x_train, mean_image), "y_train": y_train,
            "X_val": centred(x_val, mean_image), "y_val": y_val}
    np.random.seed(seed)
    model = module.TwoLayerNet(input_dim=int(np.prod(x_train.shape[1:])),
                               hidden_dims=settings["hidden_dims"], num_classes=10,
                               weight_scale=settings["weight_scale"], reg=settings["reg"])
    epochs, batch = int(settings["num_epochs"]), int(settings["batch_size"])
    per_epoch = max(x_train.shape[0] // batch, 1)
    _count_training_calls(model, epochs * per_epoch,
                          lambda k: f"epoch {k // per_epoch} of {epochs} "
                                    f"(iteration {k} of {epochs * per_epoch})")
    solver = Solver(model, data, update_rule="sgd",
                    optim_config={"learning_rate": settings["learning_rate"]},
                    lr_decay=settings["lr_decay"], num_epochs=epochs, batch_size=batch,
                    verbose=False)
    solver.train()
    return model.params
