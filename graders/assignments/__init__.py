"""The seed assignments, shipped as bundles, and the registry of every bundle found.

Each folder here is a bundle like any course's (``dlgrade-bundle.toml``,
``spec.py``, ``provided/``); their secret solutions live in the top-level
``reference/`` package. See ``docs/new-assignment.md``.
"""

from __future__ import annotations

from ..bundles import Registry

registry = Registry()

__all__ = ["Registry", "registry"]
