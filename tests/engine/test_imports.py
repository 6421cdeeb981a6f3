"""Which heavy libraries an upload imports: read from its text, allow-listed, bounded."""

from __future__ import annotations

import time

from graders.engine.imports import MAX_MODULES, heavy_imports
from graders.engine.submission import Cell, SourceFile, Submission


def _upload(*cells: str) -> Submission:
    return Submission(sources=[SourceFile("hw.ipynb", "notebook",
                                          [Cell(f"cell {i}", c) for i, c in enumerate(cells)])])


def test_the_imports_of_a_handout_notebook_are_found():
    sub = _upload("import numpy as np\nimport matplotlib.pyplot as plt\n",
                  "from scipy.optimize import minimize\nfrom sklearn.datasets import load_digits\n",
                  "def f():\n    import torch.nn as nn, scipy\n")
    assert heavy_imports(sub) == ("matplotlib.pyplot", "scipy", "scipy.optimize",
                                  "sklearn.datasets", "torch._dynamo", "torch.nn")


def test_only_allow_listed_installed_packages_count():
    """The names decide what a sandbox imports before any student code runs."""
    sub = _upload("import os, subprocess\nimport antigravity\nfrom . import helpers\n"
                  "import pandas\nfrom numpy import linalg\nimport torchvision\n"
                  "import matplotlib.a.b.c.d\n")
    assert heavy_imports(sub) == ()


def test_forged_text_is_bounded_in_what_it_asks_and_what_it_costs():
    many = "\n".join(f"import scipy.m{i}" for i in range(5000))
    sub = _upload(many, "import sklearn" + ", sklearn" * 10000, "(" * 100_000)
    t = time.perf_counter()
    found = heavy_imports(sub)
    assert time.perf_counter() - t < 1.0
    assert len(found) == MAX_MODULES and all(n.startswith(("scipy", "sklearn")) for n in found)
