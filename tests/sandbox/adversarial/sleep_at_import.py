# Assignment 1 (exported from Colab)
import time

import numpy as np

# wait for Google Drive to mount
time.sleep(3600)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
