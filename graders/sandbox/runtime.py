"""What the sandbox may see of the host: the Python runtime and nothing of ours.

The interpreter, the standard library and the installed packages are bound
read-only. If dlgrade itself is installed into the same site-packages, its
packages (``reference`` above all) are covered by empty directories, so a
submission can never import the instructors' solutions.
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


@dataclass(frozen=True)
class Runtime:
    roots: tuple[Path, ...]      # bound read-only at the same path inside
    masked: tuple[Path, ...]     # covered by an empty read-only directory
    python: Path


def discover() -> Runtime:
    roots: list[Path] = []
    for raw in (sys.base_prefix, sys.prefix, *site.getsitepackages()):
        p = Path(raw).resolve()
        if p.exists() and not any(p == r or r in p.parents for r in roots):
            roots = [r for r in roots if p not in r.parents]
            roots.append(p)
    masked = []
    for sp in site.getsitepackages():
        for name in HIDDEN_PACKAGES:
            candidate = Path(sp) / name
            if candidate.is_dir():
                masked.append(candidate.resolve())
    python = Path(sys.executable)
    if not any(r == python.resolve().parent or r in python.resolve().parents for r in roots):
        roots.append(python.resolve().parent)
    return Runtime(tuple(roots), tuple(masked), python)
