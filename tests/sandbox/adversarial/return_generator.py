# Assignment 1: lazy evaluation is more efficient
import math


def sigmoid(x):
    return (1 / (1 + math.exp(-v)) for v in x.ravel())
