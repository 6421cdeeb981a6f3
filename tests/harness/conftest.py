"""The harness patches the process it runs in; these tests share one such process.

``compat.install()`` and ``standins.install()`` change process-wide state
(NumPy attributes, import finders, a torch function mode), exactly as they do
in the sandbox, so they are installed once for the whole session.
"""

from __future__ import annotations

import pytest

from graders.harness import compat, standins


@pytest.fixture(autouse=True, scope="session")
def harness_installed() -> None:
    compat.install()
    standins.install()
