"""The training problem's data: three Gaussian classes, drawn fresh from each run's seed.

Trusted side only: the test half never enters a sandbox.
"""


def blobs(rng, n_train=300, n_test=300, dim=8, classes=3):
    centres = rng.normal(scale=2.0, size=(classes, dim))
    y = rng.integers(0, classes, size=n_train + n_test)
    x = centres[y] + rng.normal(size=(len(y), dim))
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
