"""Every course assignment dlgrade can grade, by slug.

An assignment is a package here with a ``spec.py`` that defines ``assignment``
(see ``docs/new-assignment.md``); its secret solution lives in ``reference/``.
"""

from __future__ import annotations

import importlib

from ..errors import UnknownAssignment
from ..spec import Assignment

_MODULES = {
    "radboud-dl-a1": "graders.assignments.radboud_dl_a1.spec",
    "ucla-c247-hw3": "graders.assignments.ucla_c247_hw3.spec",
    "nyu-dl-hw1": "graders.assignments.nyu_dl_hw1.spec",
}


class Registry:
    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = modules
        self._cache: dict[str, Assignment] = {}

    def slugs(self) -> list[str]:
        return sorted(self._modules)

    def get(self, slug: str) -> Assignment:
        if slug not in self._modules:
            known = ", ".join(self.slugs())
            raise UnknownAssignment(f"unknown assignment {slug!r}; known: {known}")
        if slug not in self._cache:
            module = importlib.import_module(self._modules[slug])
            self._cache[slug] = module.assignment
        return self._cache[slug]

    def all(self) -> list[Assignment]:
        return [self.get(s) for s in self.slugs()]


registry = Registry(_MODULES)

__all__ = ["Registry", "registry"]
