"""Gradient checks of TwoLayerNet(3072, 50, 10) on a batch of 100.

dlgrade's check (sampled coordinates + random directional derivatives, per
parameter block) against the courses' own full coordinate-wise central
difference (``eval_numerical_gradient``: 2 loss evaluations per parameter).
The baseline's time is measured on its first evaluations and scaled by its
exact evaluation count, since running it to the end takes minutes.
"""

from __future__ import annotations

import time

import numpy as np

from graders.checks import check_gradient

D, H, C, N = 3072, 50, 10, 100
BASELINE_SAMPLE = 2000


def _net(rng: np.random.Generator):
    params = {"W1": rng.normal(0, 1e-2, (D, H)), "b1": rng.normal(0, 1e-2, H),
              "W2": rng.normal(0, 1e-2, (H, C)), "b2": rng.normal(0, 1e-2, C)}
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, N)
    reg = 0.05

    def loss(p):
        h = np.maximum(0, X @ p["W1"] + p["b1"])
        s = h @ p["W2"] + p["b2"]
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(N), y].mean()
                     + 0.5 * reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum()))

    def grads(p):
        z = X @ p["W1"] + p["b1"]
        h = np.maximum(0, z)
        s = h @ p["W2"] + p["b2"]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        prob[np.arange(N), y] -= 1
        ds = prob / N
        dh = ds @ p["W2"].T * (z > 0)
        return {"W1": X.T @ dh + reg * p["W1"], "b1": dh.sum(0),
                "W2": h.T @ ds + reg * p["W2"], "b2": ds.sum(0)}

    return params, loss, grads


def measure() -> list:
    from .common import Figure

    rng = np.random.default_rng(0)
    params, loss, grads = _net(rng)
    analytic = grads(params)
    t = time.perf_counter()
    results = check_gradient("TwoLayerNet", loss, params, analytic, rng=rng)
    ours_s = time.perf_counter() - t
    assert all(r.ok for r in results), [r.message for r in results]
    ours = results.evaluations

    full = 2 * sum(v.size for v in params.values())
    x = {k: v.copy() for k, v in params.items()}
    flat = x["W1"].reshape(-1)
    t = time.perf_counter()
    for i in range(BASELINE_SAMPLE // 2):
        old = flat[i]
        flat[i] = old + 1e-5
        loss(x)
        flat[i] = old - 1e-5
        loss(x)
        flat[i] = old
    per_eval = (time.perf_counter() - t) / BASELINE_SAMPLE
    baseline_s = per_eval * full
    return [
        Figure("gradient check: loss evaluations", ours, full, "evals", "≥ 1000x fewer",
               full / ours >= 1000, f"{full / ours:.0f}x fewer than coordinate-wise"),
        Figure("gradient check: time, all four gradients", ours_s, baseline_s, "s", "< 1 s",
               ours_s < 1.0, f"baseline extrapolated from {BASELINE_SAMPLE} timed evaluations "
               f"({per_eval * 1000:.2f} ms each)"),
    ]
