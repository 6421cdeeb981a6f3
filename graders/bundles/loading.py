"""Importing a bundle's spec, on the trusted side, the same way for every origin.

A bundle that is an importable package (dlgrade's own, or an installed
course package) is imported by its real name. A folder or zip becomes the
package ``dlgrade_bundles.<slug>_<folder hash>``, so its spec can say ``from . import
reference as ref`` and ``from .data import ...`` like any package.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import traceback
import types
from importlib import util
from pathlib import Path

from ..errors import BundleError
from ..spec import Assignment
from .manifest import MANIFEST_NAME
from .sources import Bundle

SYNTHETIC_PARENT = "dlgrade_bundles"


def load_assignment(bundle: Bundle) -> Assignment:
    """The bundle's ``assignment``, checked against its manifest; errors name the file."""
    assert bundle.manifest is not None
    manifest = bundle.manifest
    spec_file = bundle.root / manifest.spec
    if not spec_file.is_file():
        raise BundleError(bundle.root / MANIFEST_NAME, f"spec file {manifest.spec!r} not found")
    reference = (bundle.root / manifest.reference).resolve()
    if not reference.exists():
        raise BundleError(bundle.root / MANIFEST_NAME,
                          f"reference {manifest.reference!r} not found (looked for {reference})")
    package = bundle.package or _synthetic_package(bundle)
    module_name = f"{package}.{Path(manifest.spec).stem}"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        sys.modules.pop(module_name, None)  # a fixed file loads on the next attempt
        raise BundleError(_failing_file(exc, spec_file), _describe(exc)) from exc
    assignment = getattr(module, "assignment", None)
    if not isinstance(assignment, Assignment):
        raise BundleError(spec_file, "defines no `assignment = Assignment(...)`")
    if assignment.slug != manifest.slug:
        raise BundleError(spec_file, f"its Assignment is {assignment.slug!r} but the manifest "
                                     f"says {manifest.slug!r}")
    provided = assignment.provided_dir.resolve() if assignment.provided_dir else None
    if provided is not None and (provided == reference or provided in reference.parents):
        raise BundleError(bundle.root / MANIFEST_NAME,
                          "the reference lies inside provided_dir, which every sandbox sees")
    return assignment


def _synthetic_package(bundle: Bundle) -> str:
    assert bundle.manifest is not None
    if SYNTHETIC_PARENT not in sys.modules:
        parent = types.ModuleType(SYNTHETIC_PARENT, "course bundles loaded from folders")
        parent.__path__ = []
        sys.modules[SYNTHETIC_PARENT] = parent
    # One package per folder: two versions of a bundle, or a fixed copy, never share modules.
    where = hashlib.sha256(str(bundle.root).encode()).hexdigest()[:10]
    name = f"{SYNTHETIC_PARENT}.{bundle.manifest.slug.replace('-', '_')}_{where}"
    if name in sys.modules:
        return name
    init = bundle.root / "__init__.py"
    if init.is_file():
        found = util.spec_from_file_location(name, init,
                                             submodule_search_locations=[str(bundle.root)])
        assert found is not None and found.loader is not None
        module = util.module_from_spec(found)
        sys.modules[name] = module
        try:
            found.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise BundleError(_failing_file(exc, init), _describe(exc)) from exc
    else:
        module = types.ModuleType(name)
        module.__path__ = [str(bundle.root)]
        module.__package__ = name
        sys.modules[name] = module
    return name


def _failing_file(exc: BaseException, default: Path) -> str:
    """The file and line an instructor must open: a syntax error's own, or the innermost frame
    that lies in a file of the bundle."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    root = str(default.parent)
    ours = [f for f in frames if f.filename.startswith(root)]
    if ours:
        return f"{ours[-1].filename}:{ours[-1].lineno}"
    return str(default)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"syntax error: {exc.msg}"
    return f"cannot load: {type(exc).__name__}: {exc}"
