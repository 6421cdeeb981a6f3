"""Logging in and out, and the start page: the courses of whoever is logged in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from service.deps import DB, Ctx, CurrentUser
from service.models import User
from service.routes.courses import list_courses
from service.security import verify_password
from service.web import session as web_session
from service.web.render import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/courses"
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='/')}"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/courses", status_code=303)


def _login_page(request: Request, ctx: Ctx, next_url: str, error: str | None = None,
                email: str = "", status_code: int = 200) -> Response:
    token = web_session.new_token()
    response = render(request, "login.html", status_code, next=next_url, error=error,
                      email=email, user=None, login_token=token)
    web_session.remember_login_token(request, response, ctx.secret, token)
    return response


@router.get("/login")
def login_form(request: Request, ctx: Ctx, next: str | None = None) -> Response:
    return _login_page(request, ctx, safe_next(next))


@router.post("/login")
def login(request: Request, ctx: Ctx, session: DB, email: Annotated[str, Form(max_length=320)],
          password: Annotated[str, Form(max_length=1024)],
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Query()] = "/courses") -> Response:
    target = safe_next(next)
    if not web_session.login_form_valid(request, ctx.secret, csrf_token):
        return _login_page(request, ctx, target, "This log-in form had expired; please try "
                           "again.", email, status_code=403)
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        return _login_page(request, ctx, target, "Wrong email or password.", email,
                           status_code=401)
    response = RedirectResponse(target, status_code=303)
    web_session.start(response, request, ctx.secret, user.id, user.token_epoch,
                      ctx.settings.session_hours)
    return response


@router.post("/logout")
def logout(user: CurrentUser) -> Response:
    """A POST with the session's CSRF token (checked by ``current_user``): a link from
    another site cannot log anyone out."""
    response = RedirectResponse("/login", status_code=303)
    web_session.end(response)
    return response


@router.get("/courses")
def courses(request: Request, user: CurrentUser, session: DB) -> Response:
    request.state.user = user
    return render(request, "courses.html", courses=list_courses(user, session))
