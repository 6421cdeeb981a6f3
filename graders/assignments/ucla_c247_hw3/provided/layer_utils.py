"""The course's ``nndl/layer_utils.py``: affine-ReLU "sandwich" layers built from the student's.

The grader copies this file (and ``softmax.py``) into the student's ``nndl``
package, next to their ``layers.py``, in place of whatever the student
uploaded. It runs in the sandbox, so it imports nothing but the package it
sits in.

Layers are looked up on the student's module at call time, not bound at
import: a ``layers.py`` missing ``relu_forward`` still lets ``fc_net.py``
import, and the failure names the missing function when it is called.
"""

from typing import Any

import numpy as np

from . import layers as _layers

# The course's file re-exports everything from layers.py, and some fc_net.py
# files rely on that. softmax_loss is imported after it on purpose: with the
# handout's `from .layers import *` then `from .layer_utils import *`, the
# course's softmax_loss is the one fc_net.py ends up calling.
from .layers import *  # noqa: F403
from .softmax import softmax_loss as softmax_loss

Cache = tuple[Any, Any]


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """relu(affine(x)), keeping both layers' caches for the backward pass."""
    a, fc_cache = _layers.affine_forward(x, w, b)
    out, relu_cache = _layers.relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``affine_relu_forward``: ``(dx, dw, db)``."""
    fc_cache, relu_cache = cache
    da = _layers.relu_backward(dout, relu_cache)
    return _layers.affine_backward(da, fc_cache)
