# Assignment 1: Python floats are more precise than numpy's, right?
import math

import numpy as np


def sigmoid(x):
    out = np.empty(x.shape, dtype=object)
    for index, value in np.ndenumerate(x):
        out[index] = 1 / (1 + math.exp(-value))
    return out
