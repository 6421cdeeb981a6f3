"""The seed bundles' solutions ship in the wheel, so `dlgrade assignment check` works installed."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from graders.assignments import registry

REPO = Path(__file__).resolve().parents[2]


def _shipped(path: Path) -> bool:
    """Inside a package the wheel includes, as a module or as declared package data."""
    rel = path.resolve().relative_to(REPO)
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = config["packages"]["find"]["include"]
    if not any(fnmatch.fnmatch(rel.parts[0], p) for p in packages):
        return False
    if path.suffix == ".py":
        return True
    package = ".".join(rel.parent.parts)
    return any(fnmatch.fnmatch(path.name, pattern)
               for key, patterns in config["package-data"].items() if key in ("*", package)
               for pattern in patterns)


def test_every_seed_bundles_solution_is_inside_the_installed_packages() -> None:
    seeds = [b for b in registry.bundles() if b.origin == "built-in"]
    assert len(seeds) == 3
    for bundle in seeds:
        solution = bundle.solution
        assert solution.exists(), solution
        files = [solution] if solution.is_file() else list(solution.rglob("*.py"))
        for f in files:
            assert _shipped(f), f"{bundle.slug}: {f} is not in the wheel"
