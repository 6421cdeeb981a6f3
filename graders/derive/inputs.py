"""Symbolic argument shapes, turned into fresh random arrays for each run.

``("N", "D")`` names dimensions; every name gets its own size, distinct from
the others (primes), so a transpose or a wrong axis cannot pass by accident.
A product, ``"D1*D2"``, is the size of those dimensions flattened: ``x`` of
shape ``("N", "D1", "D2")`` against ``w`` of shape ``("D1*D2", "M")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..checks import away_from_kinks, distinct_shape
from ..errors import SpecError

Dim = str | int
Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class Arg:
    """One array argument: its symbolic shape and where its values lie.

    ``dist="normal"`` (the default) centres values in ``[low, high]``, the tails redrawn
    inside it, ``"uniform"`` spreads them evenly; ``dist="labels"`` draws integer class labels
    in ``[0, classes)``; ``dist="binary"`` draws targets 0.0 or 1.0 (a binary
    cross-entropy's ``y``);
    ``dist="constant"`` is a scalar passed as it is, ``low`` (a regularisation strength);
    ``kinks`` keeps values at least ``margin`` away from points where the
    function is not differentiable (ReLU's 0), so finite differences are exact.
    """

    shape: Shape
    low: float = -1.0
    high: float = 1.0
    dist: Literal["normal", "uniform", "labels", "binary", "constant"] = "normal"
    classes: str | None = None
    kinks: tuple[float, ...] = ()
    margin: float = 0.05

    @property
    def differentiable(self) -> bool:
        return self.dist not in ("labels", "binary", "constant")


def labels(classes: str, shape: Shape = ("N",)) -> Arg:
    """Integer class labels, one per row: ``labels("C")``."""
    return Arg(shape, dist="labels", classes=classes)


def binary(shape: Shape = ("N",)) -> Arg:
    """Targets 0.0 or 1.0, one per entry of ``shape``: ``binary(("N", "D"))``."""
    return Arg(shape, dist="binary")


def as_arg(value: Arg | Shape | str, name: str) -> Arg:
    if isinstance(value, Arg):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Arg((), float(value), float(value), dist="constant")
    if isinstance(value, str):  # a bare dimension name: labels over that many classes
        return labels(value)
    if isinstance(value, tuple) and all(isinstance(d, str | int) for d in value):
        return Arg(value)
    raise SpecError(f"argument {name!r}: expected a shape like ('N', 'D'), an Arg, "
                    f"labels('C') or a number; got {value!r}")


def symbols(args: Mapping[str, Arg]) -> list[str]:
    seen: list[str] = []
    for arg in args.values():
        for d in (*arg.shape, *( (arg.classes,) if arg.classes else ())):
            for part in d.split("*") if isinstance(d, str) else ():
                if part not in seen:
                    seen.append(part)
    return seen


def draw_dims(names: list[str], rng: np.random.Generator,
              keep: Mapping[str, int] | None = None) -> dict[str, int]:
    """Distinct sizes for ``names``; those in ``keep`` stay, the others are new and differ."""
    keep = dict(keep or {})
    fresh = [n for n in names if n not in keep]
    high = 13 if len(names) <= 5 else 31
    while True:
        sizes = distinct_shape(rng, len(fresh) + len(keep), low=2, high=high)
        new = [s for s in sizes if s not in keep.values()][:len(fresh)]
        if len(new) == len(fresh):
            return {**keep, **dict(zip(fresh, new, strict=True))}


def concrete(shape: Shape, dims: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(int(np.prod([dims[p] for p in d.split("*")])) if isinstance(d, str)
                 else int(d) for d in shape)


def draw(args: Mapping[str, Arg], dims: Mapping[str, int],
         rng: np.random.Generator) -> dict[str, np.ndarray | float]:
    out = {}
    for name, arg in args.items():
        size = concrete(arg.shape, dims)
        if arg.dist == "labels":
            assert arg.classes is not None
            out[name] = rng.integers(0, dims[arg.classes], size=size)
            continue
        if arg.dist == "constant":
            out[name] = arg.low
            continue
        if arg.dist == "binary":
            out[name] = (rng.random(size) < 0.5).astype(np.float64)
            continue
        if arg.dist == "uniform":
            value = rng.uniform(arg.low, arg.high, size=size)
        else:
            value = arg.low + (arg.high - arg.low) * (_within_two_sigma(size, rng) * 0.25 + 0.5)
        for kink in arg.kinks:
            value = kink + away_from_kinks(value - kink, arg.margin)
        out[name] = value
    return out


def _within_two_sigma(size: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Standard normal values redrawn until inside [-2, 2]: the declared range holds (a
    log's input stays positive) and, unlike clipping, no two values tie at a bound (a
    max-pool's argmax would be ambiguous)."""
    value = rng.normal(size=size)
    outside = np.abs(value) > 2
    while outside.any():
        value[outside] = rng.normal(size=int(outside.sum()))
        outside = np.abs(value) > 2
    return value
