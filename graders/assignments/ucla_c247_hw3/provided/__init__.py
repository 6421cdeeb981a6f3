"""Course-provided files for ucla-c247-hw3, and where the grader puts them.

These run in the sandbox beside the student's ``nndl`` package, in place of
any copy the student uploaded (README: provided code is always the
course's). They import only numpy and the package they sit in, and hold no
solution of a graded problem. This module itself is engine-side.

    submission root/
        nndl/__init__.py          empty, as the course's
        nndl/layer_utils.py       affine_relu_forward/backward over the student's layers.py
        nndl/softmax.py           softmax_loss, re-exported by layer_utils
        utils/__init__.py
        utils/solver.py           Solver (sgd, lr_decay per epoch)
        utils/gradient_check.py   eval_numerical_gradient(_array)

``softmax_loss`` also lives in the handout's ``layers.py``; the grader may
set ``nndl.layers.softmax_loss`` to this copy, and ``layer_utils`` re-exports
it after ``layers``' names, so ``fc_net.py``'s ``from .layer_utils import *``
gets the course's version either way.

Two more modules here are the grader's, not the course's, and are never
copied into the submission: ``probes.py`` (reaches the student's files by
module, since two of them define ``TwoLayerNet``) and ``training.py`` (the
CIFAR-10 runs, returning the trained parameters only). The provided folder is on
the sandbox's ``sys.path``, so they import as top-level modules there.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent

_SOURCES: dict[str, Path | None] = {
    "nndl/__init__.py": None,
    "nndl/layer_utils.py": HERE / "layer_utils.py",
    "nndl/softmax.py": HERE / "softmax.py",
    "utils/__init__.py": HERE / "utils" / "__init__.py",
    "utils/solver.py": HERE / "utils" / "solver.py",
    "utils/gradient_check.py": HERE / "utils" / "gradient_check.py",
}


def sandbox_files() -> dict[str, str]:
    """Path under the submission root -> text, for every file the grader writes over the upload."""
    return {dest: "" if src is None else src.read_text() for dest, src in _SOURCES.items()}


def install_nndl_files(package: str) -> None:
    """Load ``softmax`` and ``layer_utils`` as submodules of the imported ``package``.

    For trusted code laid out like a student's ``nndl`` package (the reference
    solutions): its ``from .layer_utils import ...`` then gets the course's
    copy, with no second copy to keep in step. ``package`` must already hold
    a ``layers`` module or be able to import one.
    """
    parent = sys.modules[package]
    for stem in ("softmax", "layer_utils"):
        name = f"{package}.{stem}"
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, HERE / f"{stem}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the course's {stem}.py from {HERE}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        setattr(parent, stem, module)
