"""The one place the service calls the engine.

A *grader* answers two questions: which problems an assignment slug has, and
what a submission scores. ``EngineGrader`` asks ``graders``; tests and
fault drills name another class in ``Settings.grader`` (an import path, so a
worker in another process picks it up from the environment).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from graders.errors import UnknownAssignment
from graders.results import Grade, ProblemResult
from service.settings import Settings


@dataclass(frozen=True)
class ProblemInfo:
    id: str
    points: float
    manual: bool = False
    training: bool = False


@dataclass(frozen=True)
class AssignmentInfo:
    slug: str
    title: str
    problems: list[ProblemInfo]
    graded_files: tuple[str, ...] = ()  # an upload with none of these is refused


class Grader(Protocol):
    version: str

    def assignment(self, slug: str) -> AssignmentInfo:
        """Raises ``UnknownAssignment`` for a slug the registry does not have."""
        ...

    def slugs(self) -> list[str]: ...

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade: ...


class EngineGrader:
    """The real engine: ``graders.engine.grade`` in the bubblewrap sandbox."""

    def __init__(self, settings: Settings) -> None:
        import graders
        from graders.sandbox.pool import WarmPool

        self.sandbox = settings.sandbox
        self.version = graders.__version__
        self.pool = WarmPool(settings.warm_sandboxes) if settings.warm_sandboxes > 0 else None

    def assignment(self, slug: str) -> AssignmentInfo:
        from graders.assignments import registry

        a = registry.get(slug)
        return AssignmentInfo(a.slug, a.title, [
            ProblemInfo(p.id, float(p.points), bool(p.manual), bool(getattr(p, "training", False)))
            for p in a.problems], a.graded_files)

    def slugs(self) -> list[str]:
        from graders.assignments import registry

        return [a.slug for a in registry.all()]

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade:
        from graders.engine import grade

        return grade(slug, list(paths), seed=seed, problems=problems, sandbox=self.sandbox,
                     on_problem=on_problem, pool=self.pool)


def load_grader(settings: Settings) -> Grader:
    """Import ``module:attr`` and build it with the settings."""
    module, _, attr = settings.grader.partition(":")
    if not attr:
        raise ValueError(f"DLGRADE_GRADER={settings.grader!r}: expected 'module:attribute'")
    factory: Any = getattr(importlib.import_module(module), attr)
    return factory(settings)


def known_slug(grader: Grader, slug: str) -> AssignmentInfo | None:
    try:
        return grader.assignment(slug)
    except (UnknownAssignment, KeyError):
        return None
