"""The course's modules as they were before any student code ran, and how to put them back.

Restoring a module's names is not enough: a submission can keep the name and
change what it points at (``digits.train_digits.__code__ = mine.__code__``,
``Net.forward = mine``, a new default argument, a closure cell). A snapshot
therefore also keeps, for every function and class the module defines, the
function's code, defaults and closure contents and the class's attributes
(and those of its methods), and ``restore`` puts back whatever changed.
"""

from __future__ import annotations

from types import FunctionType, ModuleType
from typing import Any

# A class attribute that is a plain function, or wraps one.
_WRAPPERS = (staticmethod, classmethod)
_CELL_EMPTY = object()


class FunctionState:
    """What a call of ``func`` runs: its code, defaults and closure contents."""

    def __init__(self, func: FunctionType) -> None:
        self.func = func
        self.code = func.__code__
        self.defaults = func.__defaults__
        self.kwdefaults = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
        self.cells = [_cell_value(c) for c in func.__closure__ or ()]

    def restore(self) -> None:
        func = self.func
        # A changed code object may expect another closure size: reset the code first.
        if func.__code__ is not self.code:
            func.__code__ = self.code
        if func.__defaults__ is not self.defaults:
            func.__defaults__ = self.defaults
        if (func.__kwdefaults__ or None) != self.kwdefaults:
            func.__kwdefaults__ = dict(self.kwdefaults) if self.kwdefaults else None
        for cell, value in zip(func.__closure__ or (), self.cells, strict=False):
            if _cell_value(cell) is not value:
                if value is _CELL_EMPTY:
                    del cell.cell_contents
                else:
                    cell.cell_contents = value


class ClassState:
    """A class's own attributes (methods, properties, constants) as defined."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.attrs = dict(vars(cls))

    def restore(self) -> None:
        cls, now = self.cls, vars(self.cls)
        for key in [k for k in now if k not in self.attrs]:
            delattr(cls, key)
        for key, value in self.attrs.items():
            if now.get(key, _CELL_EMPTY) is not value:
                setattr(cls, key, value)


class ModuleState:
    """One course module: its names, and the functions and classes defined in it."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.names = dict(vars(module))
        self.functions: list[FunctionState] = []
        self.classes: list[ClassState] = []
        for value in self.names.values():
            if getattr(value, "__module__", None) != module.__name__:
                continue  # imported from elsewhere: its own module's snapshot covers it
            if isinstance(value, FunctionType):
                self.functions.append(FunctionState(value))
            elif isinstance(value, type):
                self._add_class(value)

    def _add_class(self, cls: type) -> None:
        self.classes.append(ClassState(cls))
        for attr in vars(cls).values():
            for func in _functions_of(attr):
                self.functions.append(FunctionState(func))

    def restore(self) -> None:
        names = vars(self.module)
        for key in [k for k in names if k not in self.names]:
            del names[key]
        names.update(self.names)
        for cls in self.classes:
            cls.restore()
        for func in self.functions:
            func.restore()


def _functions_of(attr: Any) -> list[FunctionType]:
    """The plain functions behind a class attribute (a method, a static or class method,
    a property's getter, setter and deleter)."""
    if isinstance(attr, FunctionType):
        return [attr]
    if isinstance(attr, _WRAPPERS) and isinstance(attr.__func__, FunctionType):
        return [attr.__func__]
    if isinstance(attr, property):
        return [f for f in (attr.fget, attr.fset, attr.fdel) if isinstance(f, FunctionType)]
    return []


def _cell_value(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _CELL_EMPTY
