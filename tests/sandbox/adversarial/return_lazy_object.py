# Assignment 1: a result object that turns into an array when numpy asks
import numpy as np


class SigmoidResult:
    def __init__(self, x):
        self.x = x

    def __array__(self, dtype=None, copy=None):
        return 1 / (1 + np.exp(-self.x))


def sigmoid(x):
    return SigmoidResult(x)
