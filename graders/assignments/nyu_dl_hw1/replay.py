"""The trained Fashion-MNIST model, replayed here from the layers its forward pass called.

The sandbox trains the student's model and sends back, in call order, each
layer's kind and (for a linear layer) its weight and bias, with the model's
outputs on probe images the grader chose. Replaying those layers in numpy
must give the same outputs on the probes; then the replay, not the
student's code, predicts the test images, which never enter the sandbox.
A forward pass that is not a chain of the layers below (a residual sum, a
layer used with other arguments) does not replay, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.engine.errors import WrongValue
from graders.engine.proxy import as_array

MAX_LAYERS = 64
MAX_PARAMETERS = 2_000_000  # the handout's model has 242,762; replay cost grows with this
RTOL, ATOL = 1e-3, 1e-4      # float32 training, float64 replay


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# Layers without parameters, by the names the tracer gives them (module or function).
ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ReLU": lambda x: np.maximum(x, 0.0),
    "Flatten": lambda x: x,
    "Dropout": lambda x: x,  # evaluation mode
    "Sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "sigmoid()": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "Tanh": np.tanh, "tanh()": np.tanh,
    "Softmax": _softmax, "softmax()": _softmax,
    "LogSoftmax": _log_softmax, "log_softmax()": _log_softmax,
}

Layer = tuple[str, np.ndarray | None, np.ndarray | None]


class NotReplayable(Exception):
    """The returned layers do not reproduce the model's outputs, or cannot be run here."""


def layers_of(raw: Any) -> list[Layer]:
    """The returned ``[[kind, weight, bias], ...]``, checked and bounded."""
    if not isinstance(raw, list) or len(raw) > MAX_LAYERS:
        raise WrongValue("the trained model's layers came back malformed.")
    layers: list[Layer] = []
    total = 0
    for item in raw:
        if not (isinstance(item, list | tuple) and len(item) == 3 and isinstance(item[0], str)):
            raise WrongValue("the trained model's layers came back malformed.")
        kind = item[0][:60]
        weight = None if item[1] is None else as_array(f"{kind}.weight", item[1], ndim=2)
        bias = None if item[2] is None else as_array(f"{kind}.bias", item[2], ndim=1)
        total += sum(a.size for a in (weight, bias) if a is not None)
        if total > MAX_PARAMETERS:
            raise NotReplayable(f"the model has more than {MAX_PARAMETERS:,} parameters")
        layers.append((kind, weight, bias))
    return layers


def replay(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    """The forward pass of ``layers`` on rows ``x`` (N, 784), in float64."""
    out = np.asarray(x, dtype=np.float64)
    for i, (kind, weight, bias) in enumerate(layers, start=1):
        if weight is not None:
            if weight.shape[1] != out.shape[-1] or (
                    bias is not None and bias.shape != weight.shape[:1]):
                raise NotReplayable(f"layer {i}, {kind}, has weight {weight.shape} for inputs "
                                    f"of {out.shape[-1]} features")
            out = out @ weight.T + (bias if bias is not None else 0.0)
        elif kind in ELEMENTWISE:
            out = ELEMENTWISE[kind](out)
        else:
            raise NotReplayable(f"layer {i} is {kind}, which the grader does not replay")
    return out


def check_replay(layers: list[Layer], probes: np.ndarray, outputs: Any) -> None:
    """Raise ``NotReplayable`` unless the layers give the model's own outputs on ``probes``."""
    if outputs is None:
        raise NotReplayable("the model's output is not a tensor")
    want = as_array("the model's outputs", outputs)
    with np.errstate(all="ignore"):
        got = replay(layers, probes)
    if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=ATOL,
                                                  equal_nan=True):
        raise NotReplayable("the layers its forward pass calls, run in that order, do not give "
                            "its outputs (a sum of two paths, or a layer called with other "
                            "arguments, is not a chain the grader can replay)")
