"""Reference for nyu-dl-hw1's numpy MLP: forward pass, exact gradients, batched prediction (secret).

The network is the handout's: sigmoid hidden layers, a softmax output and
the handout's cross-entropy, applied to one sample at a time. Students keep
``weights`` in one of two layouts, and every function here works in the
layout it is given, returning gradients in that same layout:

    OUT_IN  "(n_out, n_in)"  W (n_out, n_in), a layer is  W @ a + b
    IN_OUT  "(n_in, n_out)"  W (n_in, n_out), a layer is  a @ W + b

``layout`` may also be one layout per layer: a submission whose ``weights``
mix the two (which ``mnist_numpy.init`` penalises) is still graded exactly
on the other problems; ``layout_candidates`` lists the readings its shapes
allow.

A sample is what the handout's loop passes, ``x[i]``: a (28, 28) uint8
image, used unnormalised as 784 floats. All arithmetic is float64, so the
results are the true values for the student's parameters, whatever their
dtype. The helpers are the course's own (``handout.py``), so a correct
student's numbers match these to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise, product
from typing import Any, Final, Literal

import numpy as np

from graders.assignments.nyu_dl_hw1.provided.handout import (
    cross_entropy_loss,
    dsigmoid,
    integer_to_one_hot,
    sigmoid,
    softmax,
)

Layout = Literal["(n_out, n_in)", "(n_in, n_out)"]
OUT_IN: Final[Layout] = "(n_out, n_in)"
IN_OUT: Final[Layout] = "(n_in, n_out)"
LAYER_SIZES: Final = (784, 32, 32, 10)
# One layout for the whole network, or one per layer.
Layouts = Layout | Sequence[Layout]
# Where backprop evaluates dsigmoid: the true gradient uses the pre-activation z; the
# classic bug uses the activation sigmoid(z) (the spec uses it to name that bug).
DsigmoidAt = Literal["pre-activation", "activation"]

# What students hold: lists, tuples or object arrays of arrays (or nested lists).
Params = Sequence[Any] | np.ndarray


def _sizes_in(shapes: Sequence[tuple[int, ...]], layout: Layout) -> list[int] | None:
    """Layer sizes ``[n_0, ..., n_L]`` if ``shapes`` chain up in ``layout``, else None."""
    if not shapes or any(len(s) != 2 for s in shapes):
        return None
    pairs = [(s[1], s[0]) if layout == OUT_IN else (s[0], s[1]) for s in shapes]
    if any(prev_out != n_in for (_, prev_out), (n_in, _) in pairwise(pairs)):
        return None
    return [pairs[0][0], *(n_out for _, n_out in pairs)]


def detect_layout(weights: Params, sizes: Sequence[int] | None = LAYER_SIZES) -> Layout:
    """The one layout in which ``weights`` form a chain of layers (of ``sizes``, if given).

    The 32x32 middle layer fits both layouts, so the first and last layers
    decide. Raises ValueError, naming the shapes, when no layout or both fit.
    """
    shapes = [tuple(np.shape(w)) for w in weights]
    fits = [
        layout
        for layout in (OUT_IN, IN_OUT)
        if (found := _sizes_in(shapes, layout)) is not None
        and (sizes is None or found == list(sizes))
    ]
    if len(fits) == 1:
        return fits[0]
    wanted = "" if sizes is None else " of " + "→".join(str(n) for n in sizes)
    listed = ", ".join(str(s) for s in shapes)
    if not fits:
        raise ValueError(f"weights of shapes {listed} are not a chain of layers{wanted}")
    raise ValueError(f"weights of shapes {listed} fit both layouts; cannot tell which is used")


def layout_candidates(
    weights: Params, sizes: Sequence[int] = LAYER_SIZES
) -> list[tuple[Layout, ...]]:
    """Every per-layer reading of ``weights`` as the layers ``sizes``, most plausible first.

    Each non-square W says its own layout. When those agree, square layers
    follow them and there is one reading; when they disagree (a mixed
    network), a square layer could be either, so both are listed. Empty when
    some W fits neither layout.
    """
    shapes = [tuple(np.shape(w)) for w in weights]
    if len(shapes) != len(sizes) - 1:
        return []
    options: list[list[Layout]] = []
    for shape, (n_in, n_out) in zip(shapes, pairwise(sizes), strict=True):
        fits: list[Layout] = [
            layout
            for layout, want in ((OUT_IN, (n_out, n_in)), (IN_OUT, (n_in, n_out)))
            if shape == want
        ]
        if not fits:
            return []
        options.append(fits)
    uniform = [layout for layout in (OUT_IN, IN_OUT) if all(layout in o for o in options)]
    if uniform:
        return [(layout,) * len(options) for layout in uniform]
    return [tuple(choice) for choice in product(*options)]


def _per_layer(layout: Layouts, n_layers: int) -> list[Layout]:
    if isinstance(layout, str):
        return [layout] * n_layers  # type: ignore[list-item]
    layouts = list(layout)
    if len(layouts) != n_layers:
        raise ValueError(f"{len(layouts)} layouts given for {n_layers} layers")
    return layouts


def _as_float(params: Params) -> list[np.ndarray]:
    """Each parameter as a float64 array (copies: the caller's arrays are never written)."""
    return [np.array(p, dtype=np.float64) for p in params]


def _layer(W: np.ndarray, b: np.ndarray, a: np.ndarray, layout: Layout) -> np.ndarray:
    """Pre-activation of one layer for ``a`` (a vector, or a batch of row vectors)."""
    if layout == OUT_IN:
        return a @ W.T + b.reshape(-1)
    return a @ W + b.reshape(-1)


def _forward(
    weights: list[np.ndarray], biases: list[np.ndarray], a: np.ndarray, layouts: list[Layout]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations ``z_1..z_L`` and activations ``a_0..a_L`` (``a_L`` the softmax)."""
    zs: list[np.ndarray] = []
    activations = [a]
    last = len(weights) - 1
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = _layer(W, b, activations[-1], layouts[i])
        zs.append(z)
        activations.append(softmax(z) if i == last else sigmoid(z))
    return zs, activations


def _sample_vector(sample: Any) -> np.ndarray:
    """The handout's sample, ``x[i]`` of shape (28, 28), as 784 unnormalised float64 values."""
    return np.asarray(sample, dtype=np.float64).reshape(-1)


def forward(
    weights: Params, biases: Params, sample: Any, y: int, layout: Layouts | None = None
) -> tuple[float, np.ndarray, list[np.ndarray]]:
    """``(loss, one_hot_guess, activations)`` for one sample, as ``feed_forward_sample`` defines.

    The loss is the handout's ``cross_entropy_loss(integer_to_one_hot(y, 10), p)``,
    kept even where it is inf or nan (a probability that underflowed to 0),
    because that is what a correct student computes. ``activations`` are
    ``[a_0 (the sample), a_1, ..., p]``. ``layout`` None means detect it.
    """
    ws, bs = _as_float(weights), _as_float(biases)
    layouts = _per_layer(layout or detect_layout(ws, sizes=None), len(ws))
    _, activations = _forward(ws, bs, _sample_vector(sample), layouts)
    probs = activations[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(cross_entropy_loss(integer_to_one_hot(y, 10), probs))
    guess = np.zeros(10)
    guess[np.argmax(probs)] = 1
    return loss, guess, activations


def gradients(
    weights: Params,
    biases: Params,
    sample: Any,
    y: int,
    layout: Layouts | None = None,
    *,
    dsigmoid_at: DsigmoidAt = "pre-activation",
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Exact gradients ``(dweights, dbiases)`` of the sample's cross-entropy loss.

    Each gradient has the shape of the parameter it belongs to, in the same
    layout (a bias of shape (n, 1) gets a (n, 1) gradient). Softmax and
    cross-entropy together give ``p - y`` at the output; hidden layers
    multiply by ``dsigmoid`` of their pre-activation. ``dsigmoid_at=
    "activation"`` gives the classic wrong gradient instead, to recognise it.
    """
    ws, bs = _as_float(weights), _as_float(biases)
    layouts = _per_layer(layout or detect_layout(ws, sizes=None), len(ws))
    zs, activations = _forward(ws, bs, _sample_vector(sample), layouts)

    n_layers = len(ws)
    dweights: list[np.ndarray] = [np.empty(0)] * n_layers
    dbiases: list[np.ndarray] = [np.empty(0)] * n_layers
    delta = activations[-1] - integer_to_one_hot(y, 10)
    for i in reversed(range(n_layers)):
        a_prev = activations[i]
        out_in = layouts[i] == OUT_IN
        dweights[i] = np.outer(delta, a_prev) if out_in else np.outer(a_prev, delta)
        dbiases[i] = delta.reshape(bs[i].shape)
        if i > 0:
            back = ws[i].T @ delta if out_in else ws[i] @ delta
            at = zs[i - 1] if dsigmoid_at == "pre-activation" else activations[i]
            delta = back * dsigmoid(at)
    return dweights, dbiases


def predict(
    weights: Params,
    biases: Params,
    x: Any,
    layout: Layouts | None = None,
    batch_size: int = 1000,
) -> np.ndarray:
    """Predicted labels (N,) for images ``x`` (N, 28, 28) or (N, 784), unnormalised.

    The batched form of ``forward``'s guess: the same layers, softmax per
    row, then argmax. Works in chunks of ``batch_size`` rows to bound memory
    on the 10,000 test images.
    """
    ws, bs = _as_float(weights), _as_float(biases)
    layouts = _per_layer(layout or detect_layout(ws, sizes=None), len(ws))
    X = np.asarray(x)
    X = X.reshape(X.shape[0], -1)
    labels = np.empty(X.shape[0], dtype=np.intp)
    for start in range(0, X.shape[0], batch_size):
        a = X[start : start + batch_size].astype(np.float64)
        for W, b, lay in zip(ws[:-1], bs[:-1], layouts[:-1], strict=True):
            a = sigmoid(_layer(W, b, a, lay))
        scores = _layer(ws[-1], bs[-1], a, layouts[-1])
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        labels[start : start + batch_size] = np.argmax(exp / exp.sum(axis=1, keepdims=True), axis=1)
    return labels
