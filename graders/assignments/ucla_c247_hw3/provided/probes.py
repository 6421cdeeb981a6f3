"""Runs in the sandbox: reaches the student's names file by file, for the grader's probes.

``neural_net.py`` and ``fc_net.py`` both define a ``TwoLayerNet``, so the
harness's submission-wide lookup (the last definition wins) cannot tell them
apart; these helpers take the module (``nndl.fc_net``) as well as the name.
They compute nothing that is graded and hold no expected value: every result
goes back to the trusted side as plain data, and is checked there.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

GRADED_FILES = ("neural_net", "layers", "fc_net")


def inventory() -> dict[str, list[str]]:
    """The course's graded files that loaded, each with the public names it defines."""
    found = {}
    for stem in GRADED_FILES:
        module = sys.modules.get(f"nndl.{stem}")
        if module is not None:
            found[stem] = sorted(n for n in vars(module) if not n.startswith("_"))
    return found


def module_attr(module: str, name: str) -> Any:
    """One module-level value of one file (``HYPERPARAMS`` exists in two files)."""
    return getattr(sys.modules[module], name)


def call(module: str, name: str, *args: Any) -> tuple[Any, list[Any]]:
    """Call ``module.name(*args)``; return the result and the arguments as they are after it.

    The arguments come back so the grader can see whether the call wrote into them.
    """
    result = getattr(sys.modules[module], name)(*args)
    return result, list(args)


def build(module: str, cls: str, *args: Any, seed: int | None = None,
          dtype: str | None = None, **kwargs: Any) -> Any:
    """``module.cls(*args, **kwargs)`` after ``np.random.seed(seed)`` (the handout seeds this way).

    ``dtype`` travels as a name (``"float64"``), since a numpy type cannot cross the wall.
    """
    if seed is not None:
        np.random.seed(seed)
    if dtype is not None:
        kwargs["dtype"] = getattr(np, dtype)
    return getattr(sys.modules[module], cls)(*args, **kwargs)


def set_params(model: Any, params: dict[str, np.ndarray]) -> None:
    """``model.params[name] = value`` for each, as the handout's own checks set them."""
    for name, value in params.items():
        model.params[name] = value


def params_of(model: Any) -> dict[str, Any]:
    """A copy of ``model.params``; a missing or odd attribute comes back as it is."""
    params = model.params
    return dict(params) if isinstance(params, dict) else params


def loss_at(model: Any, params: dict[str, np.ndarray], *args: Any, **kwargs: Any) -> Any:
    """The loss (first item of ``model.loss(*args)``) with ``params`` in place.

    One round trip per evaluation, for the numerical gradient checks.
    """
    set_params(model, params)
    out = model.loss(*args, **kwargs)
    return out[0] if isinstance(out, tuple) and len(out) == 2 else out


def seed(value: int) -> None:
    """``np.random.seed(value)``: the handout's code draws from the global generator."""
    np.random.seed(value)
