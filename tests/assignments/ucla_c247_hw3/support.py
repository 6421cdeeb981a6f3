"""Submissions written to disk in the forms students upload them."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

from graders.sandbox.pool import WarmPool
from reference.ucla_c247_hw3 import neural_net

REFERENCE = Path(neural_net.__file__).parent
STUDENT = Path(__file__).parent / "submissions" / "student" / "nndl"
GRADED = ("neural_net.py", "layers.py", "fc_net.py")
# Sandboxes start in the background while the previous submission is graded (closed at exit).
POOL = WarmPool(size=2)


def reference_sources() -> dict[str, str]:
    return {name: (REFERENCE / name).read_text() for name in GRADED}


def student_sources() -> dict[str, str]:
    return {name: (STUDENT / name).read_text() for name in GRADED}


def write_zip(path: Path, files: Mapping[str, str | bytes]) -> Path:
    """A zip whose members are ``files``' keys, as paths inside the archive."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Loose files, as uploaded one by one; returns their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
        paths.append(path)
    return paths
