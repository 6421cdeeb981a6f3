"""Templates, and the helpers every page uses to fill them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.web import flash as web_flash
from service.web import session as web_session

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def when(dt: datetime | None, tz: str = "UTC") -> str:
    """A date as the course's calendar shows it: ``Mon 9 Dec 2026, 23:59 CET``."""
    if dt is None:
        return "—"
    local = dt.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def points(value: float | None) -> str:
    """Scores as instructors write them: ``7``, ``7.5``, ``7.25``."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def field_time(dt: datetime | None, tz: str = "UTC") -> str:
    """A date for a ``datetime-local`` field, in the course's zone (which the form reads)."""
    return "" if dt is None else f"{dt.astimezone(ZoneInfo(tz)):%Y-%m-%dT%H:%M}"


def size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


templates.env.filters.update(when=when, points=points, size=size, field_time=field_time)


def csrf_token(request: Request) -> str:
    """The CSRF token of the browser's session, for forms and for scripts' requests."""
    ctx = request.app.state.ctx
    found = web_session.read(request, ctx.secret, ctx.settings.session_hours)
    return found.csrf if found else ""


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Fill ``name``; every template gets the request, the user (if any), the CSRF token and
    the flash notice (said once)."""
    values.setdefault("user", getattr(request.state, "user", None))
    values.setdefault("flash", web_flash.take(request))
    response = templates.TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), **values}, status_code=status_code)
    web_flash.forget(request, response)
    return response
