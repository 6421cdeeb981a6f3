"""The process that runs beside student code, inside the sandbox.

It loads the submission when asked, then answers probes (call this, read
that attribute) until the trusted side closes the channel. It computes no
score and holds no expected value: everything it returns is re-checked on
the other side, so a submission that tampers with it can only hurt itself.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from . import compat, loader, standins, wire
from .pristine import ModuleState
from .wire import Tag


class Harness:
    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.loaded: Any = None
        self.handles: dict[int, Any] = {}
        self.provided: dict[str, Any] = {}
        self.overrides: dict[str, Any] = {}
        # The course's modules as they were before any student code ran: restored before
        # each call of the course's code, so a submission that rebinds their names or
        # patches their functions and classes at load time (``digits.train_digits = mine``,
        # ``train_digits.__code__ = ...``) changes nothing the grader runs.
        self.pristine: list[ModuleState] = []

    # -- values across the wall -------------------------------------------------
    def to_wire(self, value: Any, depth: int = 0) -> Any:
        if depth > wire.MAX_DEPTH:
            raise wire.WireError("value nested too deeply")
        if value is None or isinstance(value, bool | int | float | str | np.generic):
            return value
        if isinstance(value, np.ndarray) and value.dtype.kind != "O":
            if value.dtype.kind not in "biuf":
                raise wire.WireError(f"returned an array of dtype {value.dtype}, not numbers")
            return np.asarray(value)  # drops ndarray subclasses such as np.matrix
        # An object array (``np.array(weights, dtype=object)``) is a container of Python
        # objects: like any other object it stays here and crosses as a handle.
        if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
            return value.detach().cpu().numpy()
        if isinstance(value, tuple):
            return tuple(self.to_wire(v, depth + 1) for v in value)
        if isinstance(value, list):
            return [self.to_wire(v, depth + 1) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str | int) for k in value):
            return {k: self.to_wire(v, depth + 1) for k, v in value.items()}
        handle = len(self.handles) + 1
        self.handles[handle] = value
        return Tag("handle", [handle, type(value).__name__])

    def from_wire(self, value: Any) -> Any:
        if isinstance(value, Tag):
            if value.name == "rng":
                return np.random.default_rng(value.value)
            if value.name == "handle":
                return self.handles[int(value.value)]
            if value.name == "student":
                return SimpleNamespace(**self.student_names())
            if value.name == "provided":
                return self.resolve_provided(str(value.value))
            raise wire.WireError(f"unknown tag {value.name}")
        if isinstance(value, list):
            return [self.from_wire(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.from_wire(v) for v in value)
        if isinstance(value, dict):
            return {k: self.from_wire(v) for k, v in value.items()}
        if isinstance(value, np.ndarray):
            value.flags.writeable = True
        return value

    # -- names ------------------------------------------------------------------
    def student_names(self) -> dict[str, Any]:
        names: dict[str, Any] = {}
        if self.loaded is not None:
            for _file, namespace in self.loaded.namespaces:
                names.update({k: v for k, v in namespace.items() if not k.startswith("__")})
        names.update(self.overrides)
        return names

    def resolve_provided(self, target: str) -> Any:
        module_name, _, attr = target.partition(":")
        module = self.provided.get(module_name)
        if module is None:
            module = self._fresh_course_module(module_name)
            self.provided[module_name] = module
        for state in self.pristine:
            state.restore()
        return getattr(module, attr) if attr else module

    def _fresh_course_module(self, name: str) -> ModuleType:
        """Import a course module; one first needed after the student's code ran (which may
        have imported and patched it) is executed afresh, then remembered as it is."""
        if self.loaded is None:
            return importlib.import_module(name)
        sys.modules.pop(name, None)  # whatever the submission put there
        module = importlib.import_module(name)
        self.pristine.append(ModuleState(module))
        return module

    def snapshot_course_modules(self) -> None:
        """Remember every module imported from the course's folders, before the student's."""
        folders = {Path(m.__file__).parent for m in self.provided.values()
                   if getattr(m, "__file__", None)}
        self.pristine = [ModuleState(m) for m in list(sys.modules.values())
                         if getattr(m, "__file__", None) and Path(m.__file__).parent in folders]

    def lookup(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        if self.loaded is None:
            raise LookupError(name)
        value, _file, _all = loader.find(self.loaded, name)
        return value

    # -- operations -------------------------------------------------------------
    def op_load(self, req: dict[str, Any]) -> dict[str, Any]:
        for target in req.get("provided", []):
            self.resolve_provided(target)
        self.snapshot_course_modules()
        preset = {k: self.from_wire(v) for k, v in req.get("preset", {}).items()}
        self.loaded = loader.load_sources(
            req["files"], skip_calls=set(req.get("skip_calls", [])),
            statement_timeout=float(req.get("statement_timeout", 5.0)), preset=preset)
        # The course's own code replaces whatever the student left in the file.
        self.overrides = {name: self.resolve_provided(t)
                          for name, t in req.get("override", {}).items()}
        for _file, namespace in self.loaded.namespaces:
            namespace.update(self.overrides)
        return {"log": [dict(e) for e in self.loaded.log]}

    def op_ping(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"pong": True}

    def op_warm(self, req: dict[str, Any]) -> dict[str, Any]:
        """Import heavy libraries before any student code arrives (pooled sandboxes)."""
        for name in req.get("modules", []):
            importlib.import_module(str(name))
        return {}

    def op_find(self, req: dict[str, Any]) -> dict[str, Any]:
        found = {}
        for name in req["names"]:
            if name in self.overrides:
                found[name] = {"files": ["(provided by the course)"], "kind": "provided"}
                continue
            try:
                value, _file, files = loader.find(self.loaded, name)
            except LookupError:
                continue
            kind = "class" if isinstance(value, type) else (
                "function" if callable(value) else "value")
            found[name] = {"files": list(files), "kind": kind}
        return {"found": found}

    def op_call(self, req: dict[str, Any]) -> dict[str, Any]:
        target = req["target"]
        if "handle" in target:
            obj = self.handles[int(target["handle"])]
            func = getattr(obj, target["method"])
        elif "provided" in target:
            func = self.resolve_provided(target["provided"])
        else:
            func = self.lookup(target["name"])
        args = self.from_wire(req.get("args", []))
        kwargs = self.from_wire(req.get("kwargs", {}))
        result = func(*args, **kwargs)
        reply = {"value": self.to_wire(result)}
        if req.get("return_args"):
            # Lets the trusted side see whether the call wrote into its inputs.
            reply["args_after"] = self.to_wire(list(args))
        return reply

    def op_get(self, req: dict[str, Any]) -> dict[str, Any]:
        obj = self.handles[int(req["handle"])] if "handle" in req else None
        value = getattr(obj, req["attr"]) if obj is not None else self.lookup(req["attr"])
        return {"value": self.to_wire(value)}

    def op_assign(self, req: dict[str, Any]) -> dict[str, Any]:
        """Rebind a module-level name where the graded definition lives (reset shared state)."""
        name, value = req["name"], self.from_wire(req["value"])
        found = loader.find(self.loaded, name)
        for file_name, namespace in self.loaded.namespaces:
            if file_name == found.file or namespace.get(name) is found.value:
                namespace[name] = value
        return {}

    def op_set(self, req: dict[str, Any]) -> dict[str, Any]:
        obj = self.handles[int(req["handle"])]
        setattr(obj, req["attr"], self.from_wire(req["value"]))
        return {}

    def serve(self) -> None:
        while True:
            try:
                req = wire.receive(self.fd_in)
            except EOFError:
                return
            op = getattr(self, f"op_{req.get('op')}", None)
            try:
                if op is None:
                    raise wire.WireError(f"unknown operation {req.get('op')!r}")
                reply = {"ok": True, **op(req)}
            except BaseException as exc:
                reply = {"ok": False, "error": describe(exc)}
            try:
                wire.send(self.fd_out, reply)
            except wire.WireError as exc:
                wire.send(self.fd_out, {"ok": False, "error": describe(exc)})


def describe(exc: BaseException) -> dict[str, str]:
    """Name the exception and the innermost line of student code it passed through."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.filename.startswith(("/opt/dlgrade", sys.prefix, sys.base_prefix)):
            where = f"{frame.filename}, line {frame.lineno}"
    kind = type(exc).__name__
    if isinstance(exc, SystemExit):
        kind, text = "SystemExit", f"the code called exit({exc.code!r})"
    else:
        text = str(exc)[:500]
    return {"type": kind, "message": text, "where": where}


def main(argv: list[str]) -> None:
    fd_in, fd_out = int(argv[1]), int(argv[2])
    compat.install()
    standins.install()
    wire.write_all(fd_out, wire.HELLO)  # the sandbox is up; nothing of the student's ran yet
    Harness(fd_in, fd_out).serve()


if __name__ == "__main__":
    main(sys.argv)
