"""Partial credit for training results: linear between two thresholds.

The courses grade accuracy on a ramp ("full credit at >= 0.95, linear from
0.50"); the same rule works downwards for a loss (full at <= 0.02).
"""

from __future__ import annotations

import math

from graders.errors import SpecError
from graders.results import CheckResult


def _threshold(x: float) -> str:
    """``0.50``, ``0.95``, ``0.0145``: at least two decimals, no rounding away digits."""
    for digits in range(2, 7):
        if abs(round(x, digits) - x) < 1e-12:
            return f"{x:.{digits}f}"
    return f"{x:.4g}"


def _value(x: float) -> str:
    return f"{x:.3f}" if abs(x) >= 0.1 else f"{x:.3g}"


def ramp_fraction(value: float, zero_at: float, full_at: float) -> float:
    """Share of the points: 0 at ``zero_at``, 1 at ``full_at``, linear between, clipped."""
    if zero_at == full_at:
        raise SpecError(f"ramp: zero_at and full_at are both {zero_at}")
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, (value - zero_at) / (full_at - zero_at)))


def ramp(name: str, value: float, *, zero_at: float, full_at: float,
         what: str = "test accuracy", detail: str = "", hidden: bool = False,
         weight: float = 1.0) -> CheckResult:
    """Linear partial credit; ``full_at < zero_at`` means lower is better (a loss).

    The percentage shown is rounded down, so "100%" always means full credit.
    ``detail`` follows the verdict (how the run was made: epochs, data, settings).
    """
    value = float(value)
    fraction = ramp_fraction(value, zero_at, full_at)
    up = full_at > zero_at
    bounds = (f"full at {'≥' if up else '≤'} {_threshold(full_at)}, "
              f"none at {'≤' if up else '≥'} {_threshold(zero_at)}")
    shown = _value(value) if math.isfinite(value) else f"is {value}"
    percent = math.floor(fraction * 100 + 1e-9)
    message = f"{what} {shown}: {percent}% of the points ({bounds})."
    if detail:
        message = f"{message} {detail}"
    return CheckResult.ramp(name, fraction, message, hidden=hidden, weight=weight)
