"""What the sandbox may see of the host: the Python runtime and nothing of ours.

The interpreter, the standard library and the installed packages are bound
read-only. If dlgrade itself is installed into the same site-packages, its
packages (``reference`` above all) are covered by empty directories, so a
submission can never import the instructors' solutions.

Exactly one runtime's packages are visible: ``/usr`` is bound whole (for the
shared libraries), and with it any other Python's site- or dist-packages
(the system's, or a venv's base interpreter's), which may hold a second copy
of a file the sandbox must see replaced (scikit-learn's digits, test half
included). Every package directory the grader's own interpreter does not
search is covered by an empty directory.
"""

from __future__ import annotations

import os
import site
import sys
from dataclasses import dataclass
from pathlib import Path

HIDDEN_PACKAGES = ("reference", "graders", "service")
HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
# The harness's environment, sandboxed or not: one thread per library (the CPU limit is
# per sandbox), no bytecode written, a fixed hash seed, and no display.
CHILD_ENV = {"LANG": "C.UTF-8", "USER": "student", "LOGNAME": "student", "MPLBACKEND": "Agg",
             "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TORCH_DISABLE_ADDR2LINE": "1"}


def cache_root() -> Path:
    """Where files built for sandboxes are kept between gradings (font lists, data cut-downs)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dlgrade"


# (file on the host, path inside): an installed file the sandbox sees replaced, such as a
# data set that ships inside a package with the labels a problem keeps secret.
Replacements = tuple[tuple[Path, str], ...]


# Where a Python installation keeps its packages, relative to a prefix.
PACKAGE_GLOBS = ("lib*/python3*/site-packages", "lib*/python3*/dist-packages",
                 "local/lib*/python3*/site-packages", "local/lib*/python3*/dist-packages")
ALWAYS_BOUND = (Path("/usr"),)  # bound whole by bwrap.py


@dataclass(frozen=True)
class Runtime:
    roots: tuple[Path, ...]      # bound read-only at the same path inside
    masked: tuple[Path, ...]     # covered by an empty read-only directory
    python: Path
    packages: tuple[Path, ...] = ()  # the package directories the sandbox's Python searches

    def copies(self, inside: str) -> tuple[str, ...]:
        """``inside`` and the same file in every other package directory of this runtime
        (a venv's and its base's): each must be covered when the file is replaced."""
        path = Path(inside)
        found = [inside]
        for home in self.packages:
            if home not in path.parents:
                continue
            relative = path.relative_to(home)
            found += [str(other / relative) for other in self.packages
                      if other != home and (other / relative).is_file()]
        return tuple(dict.fromkeys(found))


def discover(*, prefixes: tuple[str, ...] | None = None,
             site_packages: list[str] | None = None,
             search_path: list[str] | None = None) -> Runtime:
    """The running interpreter's runtime (arguments stand in for ``sys``'s, in tests)."""
    prefixes = prefixes if prefixes is not None else (sys.base_prefix, sys.prefix)
    site_packages = site_packages if site_packages is not None else site.getsitepackages()
    search_path = search_path if search_path is not None else sys.path
    roots: list[Path] = []
    for raw in (*prefixes, *site_packages):
        p = Path(raw).resolve()
        if p.exists() and not any(p == r or r in p.parents for r in roots):
            roots = [r for r in roots if p not in r.parents]
            roots.append(p)
    masked = []
    for sp in site_packages:
        for name in HIDDEN_PACKAGES:
            candidate = Path(sp) / name
            if candidate.is_dir():
                masked.append(candidate.resolve())
    python = Path(sys.executable)
    if not any(r == python.resolve().parent or r in python.resolve().parents for r in roots):
        roots.append(python.resolve().parent)
    own = _own_packages(site_packages, search_path)
    keep = (*own, *roots)  # never cover the runtime itself, even nested in another's tree
    masked += [d for d in _package_dirs((*ALWAYS_BOUND, *roots))
               if not any(d == k or d in k.parents for k in keep)]
    return Runtime(tuple(roots), tuple(dict.fromkeys(masked)), python, own)


def _own_packages(site_packages: list[str], search_path: list[str]) -> tuple[Path, ...]:
    """The package directories this interpreter imports from, resolved."""
    own = []
    for raw in (*site_packages, *search_path):
        p = Path(raw or ".").resolve()
        if p.name in ("site-packages", "dist-packages") and p.is_dir():
            own.append(p)
    return tuple(dict.fromkeys(own))


def _package_dirs(prefixes: tuple[Path, ...]) -> list[Path]:
    """Every Python installation's package directory under ``prefixes``, resolved."""
    found = []
    for prefix in prefixes:
        for pattern in PACKAGE_GLOBS:
            found += [p.resolve() for p in sorted(prefix.glob(pattern)) if p.is_dir()]
    return list(dict.fromkeys(found))
