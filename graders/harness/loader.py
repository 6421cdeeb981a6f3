"""Run a submission's files the forgiving way, so one bad line costs only itself.

Runs inside the sandbox next to student code: standard library and NumPy only.

Each file gets its own fresh module, in upload order. Its ``__name__`` is
derived from its path (``nndl/layers.py`` → ``nndl.layers``, ``hw1.ipynb`` →
``hw1``), never ``"__main__"``, so ``if __name__ == "__main__":`` blocks do not
run. Files are importable by each other under that name and under any unique
trailing part of it (``import nndl.layers`` finds ``hw3/nndl/layers.py``), and
relative imports work inside folders; a file imported before its turn is run
then, and not again. Names that belong to an installed package or to the
standard library are never taken over by a student file.

Cells run statement by statement. Each cell is parsed on its own (a
``SyntaxError`` skips that cell only); each top-level statement first loses
its calls to the assignment's entry points (``skip_calls``: a call whose
function is a name in the set, or an attribute whose last part is; an entry
with a dot such as ``solver.train`` matches that exact expression), anywhere
in the statement but never inside a function, lambda or class body. Then it
runs under ``statement_timeout`` seconds of wall-clock time. A statement
that raises anything (``SystemExit`` included) or runs over is logged and
passed over.

The time budget uses ``SIGALRM`` (``signal.setitimer``), so loading must
happen in the main thread. It interrupts Python code, not a single long call
into C (``sum(range(10**12))``); a statement whose code keeps catching
``BaseException`` may outlive it too. The sandbox's own limits are the
backstop for both.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import importlib.abc
import importlib.machinery
import inspect
import keyword
import linecache
import os
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import standins

_REPEAT_S = 0.05  # after the deadline the alarm repeats, in case student code swallows it
_PROTECTED = frozenset({"harness", "graders", "reference"})


@dataclass
class LoadResult:
    """Every file's namespace, in upload order, and what happened while loading.

    ``origins`` maps each cell label and module name to its file, so a
    function or class can be traced to the file that defined it.
    """

    namespaces: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    log: list[dict[str, str]] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


class Found(NamedTuple):
    """A graded name's value, the file its definition came from, and every file defining it."""

    value: Any
    file: str
    defined_in: list[str]

    @property
    def note(self) -> str | None:
        """Says which definition is graded when several files define the name."""
        if len(self.defined_in) < 2:
            return None
        return f"defined in {', '.join(self.defined_in)}; the one in {self.file} is used"


class NotDefined(LookupError):
    """No file defines the name; ``looked_in`` lists the files searched."""

    def __init__(self, name: str, looked_in: list[str]) -> None:
        where = ", ".join(looked_in) or "no files"
        super().__init__(f"Not found: {name} (looked in {where}).")
        self.name = name
        self.looked_in = looked_in


def find(result: LoadResult, name: str) -> Found:
    """Look ``name`` up across all files; the last file that defines it wins.

    A file that only imported a function or class from another file does
    not count as defining it (the object's code says where it was written),
    the same object in two namespaces counts once, and a preset value nobody
    reassigned does not count as a definition at all.
    """
    candidates = [
        (file_name, namespace[name])
        for file_name, namespace in result.namespaces
        if name in namespace
        and namespace.get("__preset__", {}).get(name, _MISSING) is not namespace[name]
    ]
    if not candidates:
        raise NotDefined(name, [f for f, _ in result.namespaces])
    definitions: list[tuple[str, Any]] = []
    for file_name, value in candidates:
        if not any(value is v for _, v in definitions):
            definitions.append((_defined_in(value, result) or file_name, value))
    winner = candidates[-1][1]
    origin = next(f for f, v in definitions if v is winner)
    return Found(winner, origin, list(dict.fromkeys(f for f, _ in definitions)))


def _defined_in(value: Any, result: LoadResult) -> str | None:
    """The submission file whose code created a function or class, if it is one."""
    code = getattr(inspect.unwrap(value), "__code__", None) if callable(value) else None
    if isinstance(code, types.CodeType):
        return result.origins.get(code.co_filename)
    if isinstance(value, type):
        return result.origins.get(value.__module__)
    return None


_MISSING = object()


def load_sources(
    files: list[dict[str, Any]],
    *,
    skip_calls: Collection[str],
    statement_timeout: float,
    preset: dict[str, object] | None = None,
) -> LoadResult:
    """Run ``files`` (``{"name", "cells": [{"label", "source"}]}``) and collect their names.

    ``preset`` names are put in every file's namespace before it runs (data a
    course supplies, such as ``x_train``); they are shared, not copied. Raises
    ``RuntimeError`` outside the main thread, where ``SIGALRM`` cannot be used.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("load_sources must run in the main thread: its time budget is SIGALRM")
    if not statement_timeout > 0:
        raise ValueError(f"statement_timeout must be positive, not {statement_timeout!r}")
    loader = _Loader(files, skip_calls, statement_timeout, dict(preset or {}))
    return loader.run()


# ---- time budget ------------------------------------------------------------------------------


class _Overtime(BaseException):
    """Raised by the alarm; a BaseException, so ``except Exception`` does not stop it."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.level = level


class _Clock:
    """Nested deadlines on one ``ITIMER_REAL``: a statement inside an import inside a statement."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadlines: list[float] = []
        self.saved: Any = None

    def start(self) -> None:
        handler = signal.signal(signal.SIGALRM, self._on_alarm)
        self.saved = (handler, signal.getitimer(signal.ITIMER_REAL))

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        handler, (delay, interval) = self.saved
        signal.signal(signal.SIGALRM, handler)
        if delay > 0:
            signal.setitimer(signal.ITIMER_REAL, delay, interval)

    def push(self) -> int:
        self.deadlines.append(time.monotonic() + self.seconds)
        self._arm()
        return len(self.deadlines) - 1

    def pop(self, level: int) -> None:
        del self.deadlines[level:]
        self._arm()

    def pause(self) -> tuple[list[float], float]:
        """Stop the enclosing statements' clocks while another file loads inside them."""
        paused = (self.deadlines, time.monotonic())
        self.deadlines = []
        self._arm()
        return paused

    def resume(self, paused: tuple[list[float], float]) -> None:
        deadlines, since = paused
        elapsed = time.monotonic() - since
        self.deadlines = [d + elapsed for d in deadlines]
        self._arm()

    def _arm(self) -> None:
        if not self.deadlines:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        remaining = min(self.deadlines) - time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001), _REPEAT_S)

    def _on_alarm(self, signum: int, frame: types.FrameType | None) -> None:
        now = time.monotonic()
        expired = [i for i, deadline in enumerate(self.deadlines) if deadline <= now + 1e-4]
        if not expired:
            self._arm()
            return
        if frame is not None and frame.f_globals.get("__name__") == __name__:
            return  # inside the loader's own bookkeeping: the repeat will come back
        raise _Overtime(expired[0])


# ---- modules ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One uploaded file, its module and whether it has run."""

    index: int
    name: str
    cells: list[dict[str, str]]
    module: types.ModuleType
    state: str = "pending"  # pending, running, done


class _Loader(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs the files and serves them to each other's imports."""

    def __init__(
        self,
        files: list[dict[str, Any]],
        skip: Collection[str],
        seconds: float,
        preset: dict[str, object],
    ) -> None:
        self.skip_names = frozenset(s for s in skip if "." not in s)
        self.skip_dotted = frozenset(s for s in skip if "." in s)
        self.preset = preset
        self.clock = _Clock(seconds)
        self.result = LoadResult()
        _forget_previous_loads()
        self.entries = [self._entry(i, f) for i, f in enumerate(files)]
        self.by_module = {id(e.module): e for e in self.entries}
        self.modules: dict[str, types.ModuleType] = {}  # every importable name, aliases included
        self._plan_imports()

    def _entry(self, index: int, file: dict[str, Any]) -> _Entry:
        name = str(file["name"])
        module = types.ModuleType(_module_name(name) or f"_submission_{index}")
        module.__file__ = name
        module.__package__ = ""
        module.__builtins__ = builtins  # type: ignore[attr-defined]
        module.__dict__.update(self.preset)
        module.__preset__ = self.preset  # type: ignore[attr-defined]
        return _Entry(index, name, list(file.get("cells", [])), module)

    # -- imports between files --

    def _plan_imports(self) -> None:
        """Decide each file's importable names: its own, its folders', and unique suffixes."""
        canonical: dict[str, types.ModuleType] = {}
        for entry in self.entries:
            name = entry.module.__name__
            unusable = name.startswith("_submission_") or name.endswith("__main__")
            if unusable or name in canonical or _taken(name):
                entry.module.__name__ = f"_submission_{entry.index}"
                continue
            canonical[name] = entry.module
        for name in list(canonical):
            parts = name.split(".")
            for i in range(1, len(parts)):
                package = ".".join(parts[:i])
                canonical.setdefault(package, types.ModuleType(package))
        for name, module in canonical.items():
            is_package = any(other.startswith(name + ".") for other in canonical)
            if is_package:
                module.__path__ = []  # type: ignore[attr-defined]
            module.__package__ = name if is_package else name.rpartition(".")[0]
            module.__spec__ = _SpecOfOurs(
                name, self, origin=getattr(module, "__file__", None), is_package=is_package
            )
        aliases: dict[str, types.ModuleType | None] = {}
        for name, module in canonical.items():
            parts = name.split(".")
            for i in range(1, len(parts)):
                alias = ".".join(parts[i:])
                if alias not in canonical and not _taken(alias):
                    aliases[alias] = module if aliases.get(alias, module) is module else None
        self.modules = {**{a: m for a, m in aliases.items() if m is not None}, **canonical}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        module = self.modules.get(fullname)
        if module is None:
            return None
        origin = getattr(module, "__file__", None)
        return _SpecOfOurs(fullname, self, origin=origin, is_package=hasattr(module, "__path__"))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.modules[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        entry = self.by_module.get(id(module))
        if entry is not None and entry.state == "pending":
            self._run_entry(entry, timed=threading.current_thread() is threading.main_thread())

    # -- running --

    def run(self) -> LoadResult:
        sys.meta_path.insert(0, self)
        self.clock.start()
        try:
            for entry in self.entries:
                if entry.state == "pending":
                    self._run_entry(entry, timed=True)
        finally:
            self.clock.stop()
        self.result.namespaces = [(e.name, e.module.__dict__) for e in self.entries]
        return self.result

    def _run_entry(self, entry: _Entry, *, timed: bool) -> None:
        """Run one file; when another file's import triggers it, that statement's clock waits."""
        entry.state = "running"
        name = entry.module.__name__
        self.result.origins[name] = entry.name
        if self.modules.get(name) is entry.module:
            sys.modules[name] = entry.module
        paused = self.clock.pause() if timed and self.clock.deadlines else None
        try:
            flags = 0
            for cell in entry.cells:
                label = str(cell.get("label", entry.name))
                flags = self._run_cell(entry, label, str(cell.get("source", "")), flags, timed)
        finally:
            entry.state = "done"
            if paused is not None:
                self.clock.resume(paused)

    def _run_cell(self, entry: _Entry, label: str, source: str, flags: int, timed: bool) -> int:
        """Run one cell statement by statement; returns the ``__future__`` flags now in force."""
        standins.mark_student_file(label)
        self.result.origins[label] = entry.name
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        try:
            tree = ast.parse(source, label)
        except SyntaxError as e:
            where = f"{label}, line {e.lineno}"
            self._log(where, f"SyntaxError: {e.msg} (cell not run)", "syntax")
            return flags
        except (ValueError, RecursionError, MemoryError) as e:
            self._log(label, f"{type(e).__name__}: {e} (cell not run)", "syntax")
            return flags
        for statement in tree.body:
            flags |= _future_flags(statement)
            statement = self._skip_calls(statement, label)
            try:
                code = compile(ast.Module([statement], []), label, "exec", flags, dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
                where = f"{label}, line {getattr(e, 'lineno', None) or statement.lineno}"
                message = e.msg if isinstance(e, SyntaxError) else str(e)
                self._log(where, f"{type(e).__name__}: {message} (statement not run)", "syntax")
                continue
            self._exec(code, entry.module.__dict__, label, statement.lineno, timed)
        return flags

    def _exec(
        self, code: types.CodeType, namespace: dict[str, Any], label: str, line: int, timed: bool
    ) -> None:
        """One statement under the clock; whatever it raises is logged, never propagated."""
        level = self.clock.push() if timed else -1
        try:
            exec(code, namespace)
        except BaseException as error:
            if timed:
                self.clock.pop(level)
            if isinstance(error, _Overtime) and error.level != level:
                raise  # an enclosing statement ran out of time: it is that one's to log
            where = _where(error, f"{label}, line {line}")
            if isinstance(error, _Overtime):
                budget = _seconds(self.clock.seconds)
                self._log(where, f"stopped after {budget} (statement time budget)", "timeout")
            else:
                self._log(where, _describe(error), "error")
            return
        if timed:
            self.clock.pop(level)

    def _skip_calls(self, statement: ast.stmt, label: str) -> ast.stmt:
        remover = _CallRemover(self.skip_names, self.skip_dotted)
        statement = remover.visit(statement)
        for line, text in remover.removed:
            self._log(f"{label}, line {line}", f"skipped call to {text}", "skipped")
        return statement

    def _log(self, where: str, what: str, kind: str) -> None:
        self.result.log.append({"where": where, "what": what, "kind": kind})


class _SpecOfOurs(importlib.machinery.ModuleSpec):
    """Marks modules this loader created, so a later load can clear them out."""


def _forget_previous_loads() -> None:
    """Drop an earlier load's modules and finder: its files must not answer this one's imports."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Loader)]
    for name, module in list(sys.modules.items()):
        if isinstance(getattr(module, "__spec__", None), _SpecOfOurs):
            del sys.modules[name]


def _module_name(file_name: str) -> str | None:
    """``nndl/fc_net.py`` → ``nndl.fc_net``; None when no valid name can be made."""
    stem = re.sub(r"\.(py|ipynb)$", "", file_name, flags=re.IGNORECASE)
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    cleaned = []
    for part in parts:
        part = re.sub(r"\W", "_", part)
        if part[0].isdigit() or keyword.iskeyword(part):
            part = "_" + part
        cleaned.append(part)
    return ".".join(cleaned) or None


def _taken(name: str) -> bool:
    """Whether ``name``'s top package is the standard library's, the harness's or installed."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top in _PROTECTED or top in sys.builtin_module_names:
        return True
    existing = sys.modules.get(top)
    if existing is not None and not isinstance(getattr(existing, "__spec__", None), _SpecOfOurs):
        return True
    here = {"", ".", os.getcwd()}
    elsewhere = [p for p in sys.path if p not in here]
    return importlib.machinery.PathFinder.find_spec(top, elsewhere) is not None


def _future_flags(statement: ast.stmt) -> int:
    if not (isinstance(statement, ast.ImportFrom) and statement.module == "__future__"):
        return 0
    flags = 0
    for alias in statement.names:
        feature = getattr(__future__, alias.name, None)
        flags |= getattr(feature, "compiler_flag", 0)
    return flags


class _CallRemover(ast.NodeTransformer):
    """Replaces calls to entry points by ``None``, outside function and class bodies."""

    def __init__(self, names: frozenset[str], dotted: frozenset[str]) -> None:
        self.names = names
        self.dotted = dotted
        self.removed: list[tuple[int, str]] = []

    def _keep(self, node: ast.AST) -> ast.AST:
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _keep

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        hit = (isinstance(func, ast.Name) and func.id in self.names) or (
            isinstance(func, ast.Attribute) and func.attr in self.names
        )
        if not hit and self.dotted and isinstance(func, ast.Attribute):
            hit = ast.unparse(func) in self.dotted
        if not hit:
            return self.generic_visit(node)
        args = "()" if not node.args and not node.keywords else "(...)"
        self.removed.append((node.lineno, ast.unparse(func) + args))
        return ast.copy_location(ast.Constant(None), node)


def _where(error: BaseException, default: str) -> str:
    """The innermost line of student code the error passed through, as ``label, line n``."""
    where = default
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if standins.is_student_file(filename):
            where = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _seconds(value: float) -> str:
    """``2.0 s``, ``0.3 s``, ``0.25 s``: one decimal unless that would round."""
    text = f"{value:.1f}"
    return f"{text if float(text) == value else f'{value:g}'} s"


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"SystemExit: the code called exit({error.code!r})"
    if isinstance(error, KeyboardInterrupt):
        return "KeyboardInterrupt: the code raised KeyboardInterrupt"
    text = str(error)
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
