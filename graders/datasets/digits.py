"""scikit-learn's bundled digits, read from its file without importing scikit-learn.

Importing scikit-learn (and with it scipy) costs about 1 s of a cold
``dlgrade grade``; the data is one small gzipped CSV inside the package, which
``load_digits()`` itself reads with ``np.loadtxt``. Reading the same file the
same way gives the same arrays, bit for bit.
"""

from __future__ import annotations

import gzip
import io
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

N_ROWS, N_PIXELS = 1797, 64


def bundled_file() -> Path | None:
    """The installed ``sklearn/datasets/data/digits.csv.gz``, or None without scikit-learn.

    ``find_spec`` of a top-level package locates it without running its ``__init__``.
    """
    spec = find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = (Path(spec.submodule_search_locations[0]) / "datasets" / "data"
            / "digits.csv.gz").resolve()
    return path if path.is_file() else None


def parse(packed: bytes) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``load_digits()``'s ``data`` (1797, 64) float64 and ``target`` (1797,) int64.

    Raises ``ValueError`` when it is not 1797 rows of 64 pixels and a label, ``OSError``
    or ``EOFError`` when it is not gzip.
    """
    table = np.loadtxt(io.StringIO(gzip.decompress(packed).decode("ascii")), delimiter=",",
                       dtype=np.float64, ndmin=2)
    if table.shape != (N_ROWS, N_PIXELS + 1):
        raise ValueError(f"holds a {table.shape} table, expected ({N_ROWS}, {N_PIXELS + 1})")
    return table[:, :-1], table[:, -1].astype(np.int64)


def load() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The digits as ``load_digits()`` returns them; FileNotFoundError without scikit-learn."""
    path = bundled_file()
    if path is None:
        raise FileNotFoundError("scikit-learn's bundled digits.csv.gz: install scikit-learn")
    return parse(path.read_bytes())
