"""Stand-ins for packages a notebook imports but the grader does not have or want.

Runs inside the sandbox next to student code: standard library and NumPy only.
``install()`` changes three things:

- ``tqdm`` (and ``tqdm.auto``, ``tqdm.notebook``...), ``IPython`` (and
  ``IPython.display``) and ``google.colab`` are always replaced, installed or
  not, by transparent stand-ins: ``tqdm(it)`` is ``it``, ``display`` and
  ``drive.mount`` do nothing. They print nothing and cost nothing, and a
  submission behaves the same whatever the sandbox image holds.
- Any other package that is not installed and is imported *by student code*
  (tensorflow, keras, wandb, seaborn...) becomes a stand-in module: its
  attributes and submodules are further stand-ins, so ``import tensorflow as
  tf`` and ``tf.keras.layers`` succeed, and only a use that needs a real
  value (a call, iteration, indexing, arithmetic, ``bool()``...) raises
  ``NotInstalledError``. A stand-in called with just a function or class
  returns it unchanged, so ``@tf.function`` and ``@numba.jit``-style
  decorators keep the student's function; a class may subclass a stand-in
  and fails only when instantiated through it. Imports made by installed
  libraries are left alone, because they rely on ``ImportError`` to detect
  optional dependencies.
- Matplotlib, when installed, uses the non-interactive Agg backend whatever
  the code asks for; ``show()`` closes the figures, ``savefig`` and ``pause``
  do nothing. When it is not installed, ``matplotlib`` is a stand-in on which
  everything is a silent no-op.

Student code is recognised by the file names its code objects were compiled
with; the loader registers them with ``mark_student_file``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .compat import after_import

_student_files: set[str] = set()
_installed = False


class NotInstalledError(ModuleNotFoundError):
    """A missing package was used in a way that needs the real thing."""


def mark_student_file(filename: str) -> None:
    """Record that code compiled with ``filename`` is the student's."""
    _student_files.add(filename)


def is_student_file(filename: str) -> bool:
    """Whether code compiled with ``filename`` is the student's (tracebacks point there)."""
    return filename in _student_files


def install() -> None:
    """Put the finders and the Matplotlib settings in place; safe to call twice."""
    global _installed
    if _installed:
        return
    _installed = True
    os.environ["MPLBACKEND"] = "Agg"
    if importlib.util.find_spec("matplotlib") is not None:
        after_import("matplotlib", _pin_agg)
        after_import("matplotlib.pyplot", _quiet_pyplot)
        if "matplotlib" in sys.modules:
            _pin_agg(sys.modules["matplotlib"])
        if "matplotlib.pyplot" in sys.modules:
            _quiet_pyplot(sys.modules["matplotlib.pyplot"])
    else:
        _BUILDERS["matplotlib"] = _inert_module
    sys.meta_path.insert(0, _KnownFinder())
    sys.meta_path.append(_MissingFinder())


# ---- finders ----------------------------------------------------------------------------------


class _StandinLoader(importlib.abc.Loader):
    """Creates a stand-in module with the builder chosen for its name."""

    def __init__(self, build: Callable[[str], types.ModuleType]) -> None:
        self._build = build

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = self._build(spec.name)
        module.__path__ = []  # every stand-in can have submodules
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _spec(name: str, build: Callable[[str], types.ModuleType]) -> importlib.machinery.ModuleSpec:
    return importlib.machinery.ModuleSpec(name, _StandinLoader(build), is_package=True)


class _KnownFinder(importlib.abc.MetaPathFinder):
    """First on the path: well-known helpers are replaced even when installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        build = _builder_for(fullname)
        return None if build is None else _spec(fullname, build)


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Last on the path: only asked once every real finder has failed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        parent = sys.modules.get(top)
        if parent is not None:
            if not isinstance(parent, _MissingModule):
                return None  # a real package lacks this submodule: a real ImportError
        elif fullname != top or not _imported_by_student():
            return None
        return _spec(fullname, _MissingModule)


def _imported_by_student() -> bool:
    """Whether the frame that asked for the import runs student code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename in _student_files:
            return True
        if not (
            filename.startswith("<frozen importlib")
            or filename == __file__
            or os.path.basename(os.path.dirname(filename)) == "importlib"
        ):
            return False
        frame = frame.f_back
    return False


def _builder_for(fullname: str) -> Callable[[str], types.ModuleType] | None:
    for prefix, build in _BUILDERS.items():
        if fullname == prefix or fullname.startswith(prefix + "."):
            return build
    return None


# ---- missing packages -------------------------------------------------------------------------


def _fail(path: str, use: str) -> NotInstalledError:
    top = path.partition(".")[0]
    return NotInstalledError(
        f"{top} is not installed on the grader ({use} {path}); the grader supplies the data itself",
        name=top,
    )


class _MissingModule(types.ModuleType):
    """A module of a package that is not installed; its names are ``_Missing`` objects."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"{self.__name__} is a stand-in and has no {name}")
        value = _Missing(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        top = self.__name__.partition(".")[0]
        return f"<stand-in module {self.__name__}: {top} is not installed on the grader>"


_bases: dict[str, type] = {}


class _Missing:
    """Any name reached through a missing package; raises once a real value is needed."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"{self._path} is a stand-in and has no {name}")
        value = _Missing(f"{self._path}.{name}")
        setattr(self, name, value)
        return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if (
            len(args) == 1
            and not kwargs
            and (inspect.isfunction(args[0]) or isinstance(args[0], type))
        ):
            return args[0]  # used as a decorator: keep the student's function
        raise _fail(self._path, "called")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        """Let ``class Net(tf.keras.Model)`` be defined; building one raises."""
        if self._path not in _bases:
            path = self._path

            def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
                raise _fail(path, "a class derived from")

            _bases[path] = type(path.rpartition(".")[2], (), {"__init__": __init__})
        return (_bases[path],)

    def __repr__(self) -> str:
        top = self._path.partition(".")[0]
        return f"<stand-in {self._path}: {top} is not installed on the grader>"

    def _needs_value(self, *args: Any, **kwargs: Any) -> Any:
        raise _fail(self._path, "used")

    __iter__ = __len__ = __getitem__ = __setitem__ = __delitem__ = __contains__ = _needs_value
    __bool__ = __int__ = __float__ = __index__ = __complex__ = __array__ = _needs_value
    __enter__ = __exit__ = __await__ = __aiter__ = _needs_value
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _needs_value
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _needs_value
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = __abs__ = _needs_value
    __lt__ = __le__ = __gt__ = __ge__ = _needs_value


# ---- well-known helpers -----------------------------------------------------------------------


class _Tqdm:
    """``tqdm(it)`` iterates ``it`` and lends its attributes; progress-bar methods do nothing."""

    def __init__(self, iterable: Any = None, *args: Any, **kwargs: Any) -> None:
        self.iterable = iterable
        self.total = kwargs.get("total")
        if self.total is None and hasattr(iterable, "__len__"):
            self.total = len(iterable)
        self.n = kwargs.get("initial", 0)
        self.desc = kwargs.get("desc", "")
        self.disable = kwargs.get("disable", False)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def __len__(self) -> int:
        return int(self.total or 0)

    def __enter__(self) -> _Tqdm:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: float = 1) -> None:
        self.n += n

    @classmethod
    def write(cls, s: str, *args: Any, **kwargs: Any) -> None:
        print(s, file=kwargs.get("file"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "iterable":
            raise AttributeError(name)
        if hasattr(self.iterable, name):
            return getattr(self.iterable, name)  # tqdm(loader).dataset is loader.dataset
        return _noop  # set_description, set_postfix, close, refresh, reset...


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _trange(*args: Any, **kwargs: Any) -> _Tqdm:
    return _Tqdm(range(*args), **kwargs)


def _tqdm_module(name: str) -> types.ModuleType:
    module = _InertModule(name)
    module.tqdm = _Tqdm
    module.trange = _trange
    module.tqdm_notebook = _Tqdm
    module.tnrange = _trange
    module.__version__ = "0+stand-in"
    return module


class _Inert:
    """Accepts every attribute, call and ``with``; computes and shows nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __enter__(self) -> _Inert:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __getitem__(self, key: Any) -> Any:
        return self

    def __repr__(self) -> str:
        return "<inert stand-in>"


_INERT = _Inert()


class _InertModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _INERT


def _inert_module(name: str) -> types.ModuleType:
    """A silent module; for ``matplotlib`` also ``subplots`` with the right shape."""
    module = _InertModule(name)
    if name.endswith("pyplot"):
        module.subplots = _subplots
    return module


def _subplots(nrows: int = 1, ncols: int = 1, *, squeeze: bool = True, **kwargs: Any) -> Any:
    axes = np.empty((nrows, ncols), dtype=object)
    axes.fill(_INERT)
    if squeeze:
        axes = axes.squeeze()
        if axes.ndim == 0:
            return _INERT, _INERT
    return _INERT, axes


def _ipython_module(name: str) -> types.ModuleType:
    module = _InertModule(name)
    for attr in ("display", "clear_output", "set_matplotlib_formats", "update_display"):
        setattr(module, attr, _noop)
    for attr in ("HTML", "Image", "Markdown", "Math", "Latex", "JSON", "Audio", "Video", "SVG"):
        setattr(module, attr, _Inert)
    module.get_ipython = _noop
    module.embed = _noop
    # Libraries (matplotlib among them) compare IPython's version: look recent and absent.
    module.version_info = (8, 99, 0, "")
    module.__version__ = "8.99.0"
    return module


_BUILDERS: dict[str, Callable[[str], types.ModuleType]] = {
    "tqdm": _tqdm_module,
    "IPython": _ipython_module,
    "google.colab": _inert_module,
}


# ---- matplotlib -------------------------------------------------------------------------------


def _pin_agg(matplotlib: Any) -> None:
    """Agg now, and any later request for another backend also gets Agg."""
    use = matplotlib.use
    use("Agg", force=True)

    def agg_only(backend: str, *args: Any, **kwargs: Any) -> None:
        use("Agg", force=True)

    matplotlib.use = agg_only
    matplotlib.rcParams["figure.max_open_warning"] = 0


def _quiet_pyplot(plt: Any) -> None:
    """No window, no file, no sleeping; ``show()`` frees the figures as Jupyter does."""

    def show(*args: Any, **kwargs: Any) -> None:
        plt.close("all")

    switch = plt.switch_backend

    def agg_only(*args: Any, **kwargs: Any) -> None:
        switch("agg")

    plt.show = show
    plt.savefig = _noop
    plt.pause = _noop
    plt.switch_backend = agg_only
    from matplotlib.figure import Figure

    Figure.savefig = _noop
    Figure.show = _noop
