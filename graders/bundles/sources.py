"""Where bundles come from: dlgrade's own, configured folders and zips, installed packages.

Finding a bundle reads only its manifest; nothing of the course's code runs
until the assignment is first asked for (see ``loading.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path

from ..errors import BundleError, SubmissionError
from ..sandbox.runtime import cache_root
from .manifest import MANIFEST_NAME, Manifest, read_manifest

PATH_ENV = "DLGRADE_ASSIGNMENTS_PATH"
ENTRY_POINT_GROUP = "dlgrade.assignments"
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "assignments"
# A bundle is code and small data; anything near these sizes is a mistake, not a homework.
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_BYTES = 512 << 20


@dataclass
class Bundle:
    """One bundle found; ``error`` is set when it cannot be used, and says why."""

    root: Path
    origin: str                     # "built-in", "folder …", "zip …", "package …"
    package: str | None = None      # its real import name, when it is an importable package
    manifest: Manifest | None = None
    error: BundleError | None = None

    @property
    def slug(self) -> str | None:
        return self.manifest.slug if self.manifest else None

    @property
    def solution(self) -> Path:
        """What ``dlgrade assignment check`` mutates: the manifest's ``solution``, else the
        reference."""
        assert self.manifest is not None
        return self.root / (self.manifest.solution or self.manifest.reference)


def discover(paths: list[Path] | None = None, *, entry_points: bool = True,
             builtin: bool = True) -> list[Bundle]:
    """Every bundle, built-in first, then ``paths`` in order, then installed packages."""
    found = list(_builtin()) if builtin else []
    for entry in paths if paths is not None else configured_paths():
        found += _from_path(entry)
    if entry_points:
        found += _from_entry_points()
    for bundle in found:
        if bundle.error is None:
            try:
                bundle.manifest = read_manifest(bundle.root)
            except BundleError as exc:
                bundle.error = exc
    _refuse_duplicates(found)
    return found


def configured_paths() -> list[Path]:
    raw = os.environ.get(PATH_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _builtin() -> Iterator[Bundle]:
    for child in sorted(BUILTIN_DIR.iterdir()):
        if (child / MANIFEST_NAME).is_file():
            yield Bundle(child, "built-in", package=f"graders.assignments.{child.name}")


def _from_path(entry: Path) -> list[Bundle]:
    if entry.is_file() and entry.suffix == ".zip":
        return [_from_zip(entry)]
    if (entry / MANIFEST_NAME).is_file():
        return [Bundle(entry.resolve(), f"folder {entry}")]
    if not entry.is_dir():
        return [Bundle(entry, f"{PATH_ENV} entry {entry}",
                       error=BundleError(entry, f"listed in {PATH_ENV} but is neither a "
                                                "folder nor a .zip"))]
    bundles = []
    for child in sorted(entry.iterdir()):
        if child.is_file() and child.suffix == ".zip":
            bundles.append(_from_zip(child))
        elif (child / MANIFEST_NAME).is_file():
            bundles.append(Bundle(child.resolve(), f"folder {child}"))
    return bundles


def _from_entry_points() -> Iterator[Bundle]:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"package {ep.dist.name if ep.dist else ep.module} (entry point {ep.name})"
        try:
            found = util.find_spec(ep.module)
        except (ImportError, ValueError) as exc:
            found, why = None, str(exc)
        else:
            why = "no such module"
        if found is None or not found.submodule_search_locations:
            yield Bundle(Path(ep.module), origin, error=BundleError(
                ep.module, f"entry point {ep.name!r} must name a package with a "
                           f"{MANIFEST_NAME}: {why}"))
            continue
        yield Bundle(Path(next(iter(found.submodule_search_locations))).resolve(), origin,
                     package=ep.module)


def _from_zip(archive: Path) -> Bundle:
    """A zipped bundle, unpacked once into the cache under its content hash."""
    origin = f"zip {archive}"
    try:
        data = archive.read_bytes()
        target = cache_root() / "bundles" / hashlib.sha256(data).hexdigest()[:20]
        if not (target / ".complete").exists():
            _unzip(archive, target)
    except (OSError, zipfile.BadZipFile, BundleError) as exc:
        error = exc if isinstance(exc, BundleError) else BundleError(archive, str(exc))
        return Bundle(archive, origin, error=error)
    tops = [p for p in target.iterdir() if p.name != ".complete"]
    root = tops[0] if len(tops) == 1 and tops[0].is_dir() and not (
        target / MANIFEST_NAME).exists() else target
    return Bundle(root.resolve(), origin)


def _unzip(archive: Path, target: Path) -> None:
    from ..engine.submission import member_parts

    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise BundleError(archive, f"{len(members)} files; a bundle may hold "
                                       f"{MAX_ZIP_MEMBERS}")
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise BundleError(archive, f"unpacks to more than {MAX_ZIP_BYTES >> 20} MB")
        for m in members:
            try:  # the same member checks as a student's zip
                parts = member_parts(m, archive.name)
            except SubmissionError as exc:
                raise BundleError(archive, f"unsafe path in the zip: {exc}") from None
            dest = staging.joinpath(*parts)
            if m.is_dir() or not parts:
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another process unpacked the same bundle first: theirs is identical
        shutil.rmtree(staging, ignore_errors=True)


def _refuse_duplicates(bundles: list[Bundle]) -> None:
    first: dict[str, Bundle] = {}
    for b in bundles:
        if b.error is not None or b.slug is None:
            continue
        if b.slug in first:
            b.error = BundleError(b.root / MANIFEST_NAME,
                                  f"slug {b.slug!r} is already taken by "
                                  f"{first[b.slug].root} ({first[b.slug].origin})")
        else:
            first[b.slug] = b
