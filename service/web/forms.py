"""What every staff form shares: reading its fields, turning a refusal into a notice, and
where to go afterwards.

A staff form calls the API's own route function. What that function refuses
(an HTTP error, a service error, a field pydantic rejects) comes back to the
page the form was on as a "refused" flash with the API's own words; what it
accepts comes back as "saved". Access is never handled here: the routes
declare the API's access dependencies, which refuse before the form is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from service.services.errors import ServiceError
from service.web import flash

M = TypeVar("M", bound=BaseModel)


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields (the CSRF check has already read and cached the form)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]


def local_next(target: str | None, default: str) -> str:
    """Back to a page of ours under /assignments/, or ``default``: never another site."""
    if (not target or not target.startswith("/assignments/") or "//" in target
            or "\\" in target or any(c.isspace() for c in target)):
        return default
    return target


def parse(model: type[M], fields: Mapping[str, str], *, blank_is_none: bool = True) -> M:
    """A schema from form fields; an empty field is "not given" (None)."""
    data = {k: (None if blank_is_none and v.strip() == "" else v.strip())
            for k, v in fields.items() if k in model.model_fields}
    return model.model_validate(data)


# What a form's action may be refused with: the API's errors, and a field that is not valid.
REFUSALS = (ServiceError, HTTPException, ValueError)


def reason(exc: Exception) -> str:
    """The refusal in the API's own words."""
    if isinstance(exc, ServiceError):
        return exc.message
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'form'}: {e['msg']}"
                         for e in exc.errors())
    return f"not accepted: {exc}"


def refused(request: Request, session: Session, back: str, exc: Exception) -> RedirectResponse:
    session.rollback()
    return flash.redirect(request, back, reason(exc), "refused")


def submit(request: Request, session: Session, back: str, saved: str,
           action: Callable[[], object]) -> RedirectResponse:
    """Run ``action``; back to ``back`` saying ``saved``, or what refused it."""
    try:
        action()
    except REFUSALS as exc:
        return refused(request, session, back, exc)
    return flash.redirect(request, back, saved)
