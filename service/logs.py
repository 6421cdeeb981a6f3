"""Structured logs: one JSON object a line, carrying the submission id being worked on."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "dlgrade_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach fields (``submission_id=...``) to every record logged inside the block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Idempotent: the API, the worker and tests may all call it."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for h in root.handlers:
        if getattr(h, "_dlgrade", False):
            return
    handler = logging.StreamHandler()
    handler._dlgrade = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if json_lines
                         else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
