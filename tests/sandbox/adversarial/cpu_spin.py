# Assignment 1
import numpy as np


def sigmoid(x):
    # TODO: finish this, loops until I figure out the formula
    while True:
        pass


def relu(x):
    return np.maximum(0, x)
