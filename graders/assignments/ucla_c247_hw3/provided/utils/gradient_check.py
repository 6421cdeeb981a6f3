"""The course's ``utils/gradient_check.py``: centred finite differences, as the handout uses them.

Both functions perturb ``x`` in place, one entry at a time, and restore it,
because the course's models read their parameters by reference
(``lambda _: model.loss(X, y)[0]`` with ``x = model.params[name]``).
Provided code: runs in the sandbox, numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x``: (f(x + h) - f(x - h)) / 2h per entry.

    ``verbose`` prints each entry as it goes, like the course's version.
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = f(x)
        x[ix] = old - h
        f_minus = f(x)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient at ``x`` of ``sum(f(x) * df)``: the backward pass of an array function.

    ``df`` plays the upstream gradient ``dout``, so the result is what a
    layer's backward pass should return for ``x``.
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), copy=True)
        x[ix] = old - h
        neg = np.array(f(x), copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad
