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
    dataset: str | None = None  # a data set the workers must have installed


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
        self.pool = (WarmPool(settings.warm_sandboxes, adaptive=settings.warm_adaptive,
                              fork=settings.fork_server)
                     if settings.warm_sandboxes > 0 else None)
        self.bundles = CourseBundles(settings.bundles_dir)

    def _load(self, slug: str) -> Any:
        if is_bundle_key(slug):
            return self.bundles.get(slug)
        from graders.assignments import registry

        return registry.get(slug)

    def assignment(self, slug: str) -> AssignmentInfo:
        a = self._load(slug)
        return AssignmentInfo(a.slug, a.title, [
            ProblemInfo(p.id, float(p.points), bool(p.manual), bool(p.training), p.dataset)
            for p in a.problems], a.graded_files)

    def slugs(self) -> list[str]:
        from graders.assignments import registry

        return [a.slug for a in registry.all()]

    def version_for(self, slug: str) -> str:
        """What a result records: dlgrade's version, and a course bundle's own."""
        if is_bundle_key(slug):
            return f"{self.version} bundle {self.bundles.version(slug)}"
        return self.version

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade:
        from graders.engine import grade

        return grade(self._load(slug), list(paths), seed=seed, problems=problems,
                     sandbox=self.sandbox, on_problem=on_problem, pool=self.pool)


def is_bundle_key(slug: str) -> bool:
    """``my-hw@3fa9...``: a course bundle by content hash, not a built-in assignment."""
    return "@" in slug


def bundle_file(folder: Path, key: str) -> Path:
    """Where the shared bundle folder keeps the zip of ``slug@hash``."""
    return folder / f"{key.partition('@')[2]}.zip"


class CourseBundles:
    """Course bundles by ``slug@hash``, read from the shared bundle folder, loaded once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._registries: dict[str, Any] = {}

    def registry(self, key: str) -> Any:
        """The registry holding just this bundle (``get`` and ``bundle`` by its slug)."""
        from graders.bundles import Registry

        if key not in self._registries:
            path = bundle_file(self.folder, key)
            if not path.is_file():
                raise UnknownAssignment(f"course bundle {key}: {path} is missing on this "
                                        "worker (is the bundle folder shared?)")
            self._registries[key] = Registry.from_paths([path], builtin=False)
        return self._registries[key]

    def get(self, key: str) -> Any:
        return self.registry(key).get(key.partition("@")[0])

    def version(self, key: str) -> str:
        manifest = self.registry(key).bundle(key.partition("@")[0]).manifest
        return manifest.version if manifest else "?"


def load_grader(settings: Settings) -> Grader:
    """The grader the settings name; it grades in a memory-capped child unless the ceiling
    is 0 (``DLGRADE_GRADER_MEMORY_LIMIT_MB``), see :mod:`service.isolation`."""
    inner = load_inner_grader(settings)
    if settings.grader_memory_limit_mb <= 0:
        return inner
    from service.isolation import IsolatedGrader

    return IsolatedGrader(settings, inner)


def load_inner_grader(settings: Settings) -> Grader:
    """Import ``module:attr`` and build it with the settings."""
    module, _, attr = settings.grader.partition(":")
    if not attr:
        raise ValueError(f"DLGRADE_GRADER={settings.grader!r}: expected 'module:attribute'")
    factory: Any = getattr(importlib.import_module(module), attr)
    return factory(settings)


def grader_version(grader: Grader, slug: str) -> str:
    """The version a result of ``slug`` records (a course bundle adds its own)."""
    version_for = getattr(grader, "version_for", None)
    return version_for(slug) if version_for else grader.version


def known_slug(grader: Grader, slug: str) -> AssignmentInfo | None:
    try:
        return grader.assignment(slug)
    except (UnknownAssignment, KeyError):
        return None


def problem_order(grader: Grader, slug: str) -> list[str]:
    """The assignment's problems in the order of its spec (empty if the grader lost it)."""
    info = known_slug(grader, slug)
    return [] if info is None else [p.id for p in info.problems]


def full_points(grader: Grader, slug: str) -> float:
    """What the whole assignment is worth (0 if the grader lost it): the gradebook's
    maximum for a student scored only on paper, who has no graded run to read it from."""
    info = known_slug(grader, slug)
    return 0.0 if info is None else sum(p.points for p in info.problems)
