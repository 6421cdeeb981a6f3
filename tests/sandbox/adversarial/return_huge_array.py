# Assignment 1: preallocate generously
import numpy as np


def sigmoid(x):
    out = np.zeros((10**5, 10**4))  # 8 GB, but zeros are free
    out[: x.size, 0] = 1 / (1 + np.exp(-x.ravel()))
    return out
