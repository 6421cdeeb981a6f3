"""Trusted-side checks: pure functions from values to :class:`~graders.results.CheckResult`.

They know nothing about sandboxes: callers pass values already fetched from
the student's code, or callables that evaluate it (each call may cross a
process boundary, so gradient checks count and bound them). The reference
value is always the expected one.
"""

from graders.checks.gradients import (
    BadValue,
    GradientResults,
    as_scalar,
    away_from_kinks,
    check_gradient,
    directional_derivative,
    numerical_gradient,
    numerical_gradient_sample,
    sample_coords,
    upstream_scalar,
)
from graders.checks.numeric import close, finite, rel_error, rel_error_map, shape
from graders.checks.patterns import diagnose
from graders.checks.ramp import ramp, ramp_fraction
from graders.checks.shapes import distinct_shape
from graders.checks.upstream import (
    linear_in_upstream,
    numbers_in,
    repeatable,
    scales_with_upstream,
    unchanged,
    zero_upstream,
)

__all__ = [
    "BadValue",
    "GradientResults",
    "as_scalar",
    "away_from_kinks",
    "check_gradient",
    "close",
    "diagnose",
    "directional_derivative",
    "distinct_shape",
    "finite",
    "linear_in_upstream",
    "numbers_in",
    "numerical_gradient",
    "numerical_gradient_sample",
    "ramp",
    "ramp_fraction",
    "rel_error",
    "rel_error_map",
    "repeatable",
    "sample_coords",
    "scales_with_upstream",
    "shape",
    "unchanged",
    "upstream_scalar",
    "zero_upstream",
]
