"""Let course code written for older NumPy and for a GPU run on the grader unchanged.

Runs inside the sandbox next to student code: standard library and NumPy only.
PyTorch is never imported here: ``import torch`` costs seconds, so its patches
are applied by a post-import hook the moment the submission itself imports it.

What ``install()`` does:

- puts back the names NumPy 2 removed (``np.float``, ``np.product``,
  ``np.asscalar``, ``np.NaN``...) as plain aliases, so they work silently;
- if PyTorch is installed and has no GPU: ``.cuda()`` on tensors and modules
  returns them unchanged, and ``"cuda"`` devices given to ``.to()``, to
  tensor factories (``torch.zeros(3, device="cuda")``), to module
  constructors and to ``torch.load`` become the CPU.
  ``torch.cuda.is_available()`` stays False, so code that asks still takes its
  CPU branch. ``torch.device("cuda")`` itself is left alone (it is only a
  name); it is mapped where it is used.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_done = False


def install() -> None:
    """Apply the NumPy aliases now and arm the PyTorch patches; safe to call twice."""
    global _done
    if _done:
        return
    _done = True
    _restore_numpy_names()
    if "torch" in sys.modules:
        _patch_torch(sys.modules["torch"])
    elif importlib.util.find_spec("torch") is not None:
        after_import("torch", _patch_torch)


# ---- post-import hooks ------------------------------------------------------------------------


def after_import(name: str, callback: Callable[[types.ModuleType], None]) -> None:
    """Call ``callback(module)`` right after module ``name`` is first imported.

    A failing callback is reported on stderr and never breaks the import.
    """
    _hooks.setdefault(name, []).append(callback)
    if not any(isinstance(f, _AfterImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImportFinder())


_hooks: dict[str, list[Callable[[types.ModuleType], None]]] = {}


class _AfterImportFinder(importlib.abc.MetaPathFinder):
    """Finds watched modules with the other finders and wraps their loader."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _hooks:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookedLoader(spec.loader, _hooks.pop(fullname))
                return spec
        return None


class _HookedLoader(importlib.abc.Loader):
    """Delegates to the real loader, then runs the hooks on the finished module."""

    def __init__(self, loader: Any, callbacks: list[Callable[[types.ModuleType], None]]) -> None:
        self._loader = loader
        self._callbacks = callbacks

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        for callback in self._callbacks:
            try:
                callback(module)
            except Exception as e:  # a patch must never cost the student the import
                print(f"harness: could not patch {module.__name__}: {e!r}", file=sys.stderr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


# ---- NumPy ----------------------------------------------------------------------------------


def _in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False) -> Any:
    """``np.in1d``: ``np.isin`` on the flattened first argument."""
    return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)


def _numpy_aliases() -> dict[str, Any]:
    return {
        "float": float,
        "int": int,
        "bool": bool,
        "object": object,
        "str": str,
        "complex": complex,
        "long": int,
        "unicode": str,
        "float_": np.float64,
        "complex_": np.complex128,
        "cfloat": np.complex128,
        "singlecomplex": np.complex64,
        "longfloat": np.longdouble,
        "longcomplex": np.clongdouble,
        "clongfloat": np.clongdouble,
        "string_": np.bytes_,
        "unicode_": np.str_,
        "int0": np.intp,
        "uint0": np.uintp,
        "bool8": np.bool_,
        "object0": np.object_,
        "str0": np.str_,
        "bytes0": np.bytes_,
        "void0": np.void,
        "Inf": np.inf,
        "Infinity": np.inf,
        "PINF": np.inf,
        "infty": np.inf,
        "NINF": -np.inf,
        "NaN": np.nan,
        "PZERO": 0.0,
        "NZERO": -0.0,
        "product": np.prod,
        "cumproduct": np.cumprod,
        "alltrue": np.all,
        "sometrue": np.any,
        "round_": np.round,
        "asscalar": lambda a: a.item(),
        "alen": len,
        "msort": lambda a: np.sort(a, axis=0),
        "mat": np.asmatrix,
        "in1d": _in1d,
        "trapz": getattr(np, "trapezoid", None),
        "row_stack": np.vstack,
    }


# Still present in NumPy 2 but warning on every call; their modern forms are equivalent.
_DEPRECATED = frozenset({"in1d", "trapz", "row_stack"})


def _restore_numpy_names() -> None:
    """Set each alias where this NumPy lacks the name, so current names win."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns when asked about some removed names
        for name, value in _numpy_aliases().items():
            if value is not None and (name in _DEPRECATED or not hasattr(np, name)):
                setattr(np, name, value)


# ---- PyTorch --------------------------------------------------------------------------------


def _patch_torch(torch: Any) -> None:
    """Make GPU-only calls run on the CPU; nothing changes on a machine with CUDA.

    Devices are rewritten by a global ``TorchFunctionMode``, which sees every
    torch function and tensor method (factories included) without replacing
    any of them, so TorchScript and ``isinstance`` checks keep working. Torch
    keeps modes per thread: threads the student starts do not get it.
    """
    if torch.cuda.is_available():
        return
    from torch.overrides import TorchFunctionMode

    def cpu(device: Any) -> Any:
        if isinstance(device, str) and device.strip().lower().startswith("cuda"):
            return "cpu"
        if isinstance(device, torch.device) and device.type == "cuda":
            return torch.device("cpu")
        return device

    to_methods = {torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.pin_memory}

    class CudaOnCpu(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: Any = None
        ) -> Any:
            kwargs = dict(kwargs or {})
            if "device" in kwargs:
                kwargs["device"] = cpu(kwargs["device"])
            if func in to_methods:
                if func is not torch.Tensor.to:
                    return args[0]  # .cuda() and .pin_memory() need a GPU
                if len(args) > 1 and type(args[1]) is int:  # t.to(0) means cuda:0
                    args = (args[0], "cpu", *args[2:])
                args = tuple(cpu(a) for a in args)
            return func(*args, **kwargs)

    CudaOnCpu().__enter__()  # stays on for the life of the process

    def same(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self

    torch.nn.Module.cuda = same
    load = torch.load

    @functools.wraps(load)
    def load_on_cpu(*args: Any, **kwargs: Any) -> Any:
        if len(args) < 2:
            kwargs["map_location"] = cpu(kwargs.get("map_location")) or "cpu"
        return load(*args, **kwargs)

    torch.load = load_on_cpu
