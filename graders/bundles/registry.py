"""Every assignment this grader can grade, by slug, whatever bundle it came from.

A broken bundle is kept with its error: it is listed, and asking for it
raises that error, but it never stops another bundle from loading.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import BundleError, UnknownAssignment
from ..spec import Assignment
from .loading import load_assignment
from .sources import Bundle, discover


class Registry:
    def __init__(self, find: Callable[[], list[Bundle]] = discover) -> None:
        self._find = find
        self._bundles: list[Bundle] | None = None
        self._loaded: dict[str, Assignment] = {}

    @classmethod
    def from_paths(cls, paths: list[Path], *, entry_points: bool = False,
                   builtin: bool = True) -> Registry:
        return cls(lambda: discover(paths, entry_points=entry_points, builtin=builtin))

    def bundles(self) -> list[Bundle]:
        """Every bundle found, broken ones included, in the order they take precedence."""
        if self._bundles is None:
            self._bundles = self._find()
        return self._bundles

    def reload(self) -> None:
        """Find bundles again (after a folder or ``DLGRADE_ASSIGNMENTS_PATH`` changed)."""
        self._bundles = None
        self._loaded.clear()

    def slugs(self) -> list[str]:
        return sorted(b.slug for b in self.bundles() if b.error is None and b.slug)

    def bundle(self, slug: str) -> Bundle:
        for b in self.bundles():
            if b.error is None and b.slug == slug:
                return b
        broken = [b for b in self.bundles() if b.slug == slug]
        if broken and broken[0].error is not None:
            raise broken[0].error
        message = f"unknown assignment {slug!r}; known: {', '.join(self.slugs())}"
        unread = [str(b.error) for b in self.bundles() if b.error is not None and not b.slug]
        if unread:  # its manifest may be the one that cannot be read
            message += "; bundles that could not be read: " + "; ".join(unread)
        raise UnknownAssignment(message)

    def get(self, slug: str) -> Assignment:
        if slug not in self._loaded:
            b = self.bundle(slug)
            try:
                self._loaded[slug] = load_assignment(b)
            except BundleError as exc:
                b.error = exc
                raise
        return self._loaded[slug]

    def all(self) -> list[Assignment]:
        """Every assignment that loads; the others keep their error in ``bundles()``."""
        loaded = []
        for slug in self.slugs():
            try:
                loaded.append(self.get(slug))
            except BundleError:
                continue
        return loaded

    def errors(self) -> list[BundleError]:
        return [b.error for b in self.bundles() if b.error is not None]

    def secret_dirs(self) -> list[Path]:
        """Folders of every bundle found: spec, reference and data hooks, never for a sandbox."""
        return [b.root for b in self.bundles() if b.root.is_dir()]
