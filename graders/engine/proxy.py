"""The student's code as the trusted side sees it: a proxy that only returns plain data.

Every call is one request to the harness in the sandbox. Objects that are
not plain data (a student's ``Linear`` instance) stay inside and come back as
``Remote`` handles. Nothing returned is trusted: values are arrays, numbers,
strings and containers, which the checks validate before comparing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks._validate import Invalid, real_array
from ..harness.wire import Tag
from .errors import StudentRaised, WrongValue

if TYPE_CHECKING:
    from .session import Session

# Every reply the student's code gives, in order, when a caller asks for them: the strength
# check compares a mutant's replies with the reference's to tell equivalent mutants apart.
REPLIES: ContextVar[list[Any] | None] = ContextVar("dlgrade_replies", default=None)


class Student:
    def __init__(self, session: Session, deadline: float, limit: float | None = None) -> None:
        self._session = session
        self._deadline = deadline
        self._limit = limit

    # -- plumbing ---------------------------------------------------------------
    def _request(self, message: dict[str, Any], label: str) -> dict[str, Any]:
        timeout = max(0.0, self._deadline - time.monotonic())
        reply = self._session.request(message, timeout, limit=self._limit)
        recorded = REPLIES.get()
        if recorded is not None:
            recorded.append(reply)
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise StudentRaised(label, str(err.get("type", "Exception")),
                                str(err.get("message", "")), str(err.get("where", "")))
        return reply

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, Tag) and value.name == "handle":
            handle, type_name = value.value
            return Remote(self, int(handle), str(type_name))
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v) for k, v in value.items()}
        return value

    @staticmethod
    def _unwrap(value: Any) -> Any:
        if isinstance(value, Remote):
            return Tag("handle", value.handle)
        if isinstance(value, list):
            return [Student._unwrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(Student._unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: Student._unwrap(v) for k, v in value.items()}
        return value

    def _call(self, target: dict[str, Any], label: str, args: tuple[Any, ...],
              kwargs: dict[str, Any], return_args: bool = False) -> Any:
        reply = self._request({"op": "call", "target": target,
                               "args": self._unwrap(list(args)),
                               "kwargs": self._unwrap(kwargs), "return_args": return_args},
                              label)
        value = self._wrap(reply.get("value"))
        if return_args:
            return value, self._wrap(reply.get("args_after", []))
        return value

    # -- what specs use ---------------------------------------------------------
    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._call({"name": name}, f"{name}(...)", args, kwargs)

    def call_watching_args(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """Call, and also return the arguments as they are afterwards (to spot in-place writes)."""
        return self._call({"name": name}, f"{name}(...)", args, kwargs, return_args=True)

    def new(self, class_name: str, *args: Any, **kwargs: Any) -> Remote:
        obj = self._call({"name": class_name}, f"{class_name}(...)", args, kwargs)
        if not isinstance(obj, Remote):
            raise WrongValue(f"{class_name}(...) did not create an object "
                             f"(got {type(obj).__name__}).")
        return obj

    def provided(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Run the course's own code (``module:function``) inside the sandbox."""
        return self._call({"provided": target}, target.split(":")[-1] + "(...)", args, kwargs)

    def get(self, name: str) -> Any:
        return self._wrap(self._request({"op": "get", "attr": name}, name)["value"])

    def assign(self, name: str, value: Any) -> None:
        """Set a module-level name of the submission (e.g. restore ``weights`` between probes)."""
        self._request({"op": "assign", "name": name, "value": self._unwrap(value)},
                      f"{name} = ...")

    def has(self, name: str) -> bool:
        return self._session.find([name]).get(name) is not None

    @staticmethod
    def rng(seed: int) -> Tag:
        """A ``np.random.default_rng(seed)`` built inside the sandbox."""
        return Tag("rng", int(seed))

    @property
    def namespace(self) -> Tag:
        """The student's names as one object, for the course's code to build from."""
        return Tag("student", 1)


class Remote:
    """An object living in the sandbox; methods and attributes are fetched on demand."""

    def __init__(self, student: Student, handle: int, type_name: str) -> None:
        self.student, self.handle, self.type_name = student, handle, type_name

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.student._call({"handle": self.handle, "method": method},
                                  f"{self.type_name}.{method}(...)", args, kwargs)

    def call_watching_args(self, method: str, *args: Any, **kwargs: Any
                           ) -> tuple[Any, list[Any]]:
        return self.student._call({"handle": self.handle, "method": method},
                                  f"{self.type_name}.{method}(...)", args, kwargs,
                                  return_args=True)

    def get(self, attr: str) -> Any:
        reply = self.student._request({"op": "get", "handle": self.handle, "attr": attr},
                                      f"{self.type_name}.{attr}")
        return self.student._wrap(reply["value"])

    def set(self, attr: str, value: Any) -> None:
        self.student._request({"op": "set", "handle": self.handle, "attr": attr,
                               "value": Student._unwrap(value)}, f"{self.type_name}.{attr} = ...")

    def __repr__(self) -> str:
        return f"<{self.type_name} in the sandbox #{self.handle}>"


def as_array(label: str, value: Any, *, ndim: int | None = None,
             expected_shape: Sequence[int | None] | None = None) -> np.ndarray:
    """The value as a float64 array, or a ``WrongValue`` that says what came back instead.

    Its size is checked before the float64 copy (a 200 MB bool reply is 1.6 GB
    once widened): ``expected_shape`` bounds it, as in ``real_array``, and
    without one at most ``MAX_ENTRIES`` are read. The exact shape is the
    caller's to check, with its own message.
    """
    if isinstance(value, bool | int | float | np.ndarray) and not isinstance(value, Remote):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            if ndim is not None and arr.ndim != ndim:
                raise WrongValue(f"{label}: expected a {ndim}-d array, got shape {arr.shape}.")
            try:
                return real_array(arr, expected_shape)
            except Invalid as exc:
                raise WrongValue(f"{label}: {exc}.") from None
    kind = value.type_name if isinstance(value, Remote) else type(value).__name__
    raise WrongValue(f"{label}: expected a numeric array, got {kind}.")


def as_number(label: str, value: Any) -> float:
    """One number (a size-1 array counts), or a ``WrongValue`` that says what came back."""
    if isinstance(value, np.ndarray) and value.size != 1:  # before as_array widens it
        raise WrongValue(f"{label}: expected a single number, got an array of shape "
                         f"{value.shape}.")
    return float(as_array(label, value).reshape(-1)[0])
