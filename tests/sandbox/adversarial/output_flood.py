# Assignment 1, with LOTS of debug output
import sys

import numpy as np


def sigmoid(x):
    line = "debug: loss is nan " * 500 + "\n"
    for _ in range(10_000):  # about 100 MB on each stream
        sys.stdout.write(line)
        sys.stderr.write(line)
    return 1 / (1 + np.exp(-x))
