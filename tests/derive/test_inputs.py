"""Declared value ranges are promises a reference may rely on (a log's input stays > 0)."""

from __future__ import annotations

import numpy as np
import pytest

from graders.derive.inputs import Arg, draw


@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_every_drawn_value_lies_in_the_declared_range(dist: str) -> None:
    arg = Arg(("N", "D"), 0.1, 2.0, dist=dist)  # type: ignore[arg-type]
    x = draw({"x": arg}, {"N": 200, "D": 50}, np.random.default_rng(0))["x"]
    assert isinstance(x, np.ndarray) and x.shape == (200, 50)
    assert x.min() >= 0.1 and x.max() <= 2.0
    assert np.unique(x).size == x.size   # no ties: nothing piled on the bounds


def test_a_number_is_passed_as_it_is() -> None:
    assert draw({"reg": Arg((), 0.3, 0.3, dist="constant")}, {}, np.random.default_rng(0)) \
        == {"reg": 0.3}
