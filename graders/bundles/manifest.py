"""The manifest every bundle carries: ``dlgrade-bundle.toml`` at its root.

It is read before any of the bundle's code is imported, so a bundle whose
spec fails to load can still be named, listed and reported.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import __version__
from ..errors import BundleError

MANIFEST_NAME = "dlgrade-bundle.toml"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Manifest(BaseModel):
    """What a course declares about its assignment; unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100,
                      description="kebab-case id, unique across every bundle a grader loads")
    title: str = Field(min_length=1, max_length=300)
    version: str = Field(min_length=1, max_length=30, description="the course's own version")
    dlgrade: str = Field(default=">=0.2", description="dlgrade versions it works with (PEP 440)")
    spec: str = Field(default="spec.py", description="the module that defines `assignment`")
    reference: str = Field(default="reference",
                           description="the secret solution, a path relative to the bundle")
    solution: str | None = Field(
        default=None, description="a correct submission in the students' API (a file or "
                                  "folder) that `dlgrade assignment check` mutates; "
                                  "by default the reference")

    @field_validator("dlgrade")
    @classmethod
    def _specifier(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(f"not a version specifier: {value!r} (e.g. '>=0.2')") from None
        return value

    @field_validator("spec")
    @classmethod
    def _python_module(cls, value: str) -> str:
        path = Path(value)
        if path.suffix != ".py" or path.is_absolute() or ".." in path.parts or len(path.parts) != 1:
            raise ValueError(f"must name a .py file at the bundle's top level, not {value!r}")
        return value


def read_manifest(root: Path) -> Manifest:
    """Parse and validate ``root/dlgrade-bundle.toml``; every failure names the file."""
    path = root / MANIFEST_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(path, "no manifest: a bundle needs a dlgrade-bundle.toml") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BundleError(path, f"cannot read the manifest: {exc}") from None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'manifest'}: {e['msg']}"
                            for e in exc.errors())
        raise BundleError(path, reasons) from None
    if Version(__version__) not in SpecifierSet(manifest.dlgrade):
        raise BundleError(path, f"needs dlgrade {manifest.dlgrade}; this is dlgrade {__version__}")
    return manifest
