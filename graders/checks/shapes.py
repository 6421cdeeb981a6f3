"""Input shapes that cannot pass by accident.

With N = D, ``x.T @ dy`` and ``dy.T @ x`` have the same shape and a swapped
product goes unnoticed; distinct sizes (primes, so no two products collide
either) turn every such mix-up into a shape error.
"""

from __future__ import annotations

import numpy as np


def _primes(low: int, high: int) -> list[int]:
    return [n for n in range(max(2, low), high + 1)
            if all(n % d for d in range(2, int(n**0.5) + 1))]


def distinct_shape(rng: np.random.Generator, ndim: int, low: int = 2,
                   high: int = 13) -> tuple[int, ...]:
    """``ndim`` distinct sizes in ``[low, high]``, primes when there are enough."""
    pool = _primes(low, high)
    if len(pool) < ndim:
        pool = list(range(low, high + 1))
    if len(pool) < ndim:
        raise ValueError(f"cannot choose {ndim} distinct sizes in [{low}, {high}]")
    picked = rng.choice(np.asarray(pool), size=ndim, replace=False)
    return tuple(int(n) for n in picked)
