"""The secret solution: imported by the spec on the trusted side, never sent to a sandbox."""

import numpy as np


def relu_forward(x):
    return np.maximum(x, 0.0), x


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)
