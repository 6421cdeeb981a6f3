# Assignment 1: a helper that keeps running after grading (to mine some coins)
import ctypes
import os
import time

import numpy as np

NAME = b"coin-miner"  # how the helper shows up in `ps` (the test picks a unique name)


def _start_helper():
    if os.fork() > 0:
        return
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    ctypes.CDLL(None).prctl(15, NAME, 0, 0, 0)  # PR_SET_NAME
    os.closerange(0, 1024)
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.1)
    os._exit(0)


def sigmoid(x):
    _start_helper()
    return 1 / (1 + np.exp(-x))
