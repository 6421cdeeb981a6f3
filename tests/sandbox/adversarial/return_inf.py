# Assignment 1: forgot to guard against overflow
import numpy as np


def sigmoid(x):
    return np.exp(1000 * x)
