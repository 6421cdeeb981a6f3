"""The pages' log-in: a signed session cookie, and the CSRF token that goes with it.

The API keeps its bearer tokens. A browser instead holds ``dlgrade_session``:
the user id, the account's token epoch (so a password change or a disabled
account ends every session, as it revokes every token) and a random CSRF
token, signed with the service's secret and dated. The cookie is HttpOnly and
SameSite=Lax; on top of that every request that changes something must send
the session's CSRF token back, in the form field ``csrf_token`` or the header
``X-CSRF-Token``, which a page of another site cannot read or forge.

Before log-in there is no session, so the log-in form is protected the same
way by a short-lived ``dlgrade_login`` cookie that the form repeats.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response, status
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "dlgrade_session"
LOGIN_COOKIE = "dlgrade_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
LOGIN_FORM_SECONDS = 3600


@dataclass(frozen=True)
class PageSession:
    user_id: int
    epoch: int
    csrf: str


def _signer(secret: str, what: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"dlgrade-{what}")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(response: Response, request: Request, secret: str, user_id: int, epoch: int,
          hours: float) -> None:
    """Log a browser in: a new session (and so a new CSRF token) at every log-in."""
    value = _signer(secret, "session").dumps(
        {"u": user_id, "e": epoch, "c": new_token()})
    response.set_cookie(SESSION_COOKIE, value, max_age=int(hours * 3600), httponly=True,
                        samesite="lax", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def read(request: Request, secret: str, hours: float) -> PageSession | None:
    """The browser's session if its cookie is genuine and not older than ``hours``."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _signer(secret, "session").loads(raw, max_age=int(hours * 3600))
        return PageSession(int(data["u"]), int(data["e"]), str(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


async def sent_token(request: Request) -> str | None:
    """The CSRF token a request carries: its header, else its form's field."""
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    return token


def same(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


CSRF_REFUSED = HTTPException(
    status.HTTP_403_FORBIDDEN,
    "this form has expired or was sent from another site; reload the page and try again")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def remember_login_token(request: Request, response: Response, secret: str, token: str) -> None:
    """The log-in form's token, kept in a cookie scoped to /login; the form repeats it."""
    response.set_cookie(LOGIN_COOKIE, _signer(secret, "login").dumps(token),
                        max_age=LOGIN_FORM_SECONDS, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login")


def login_form_valid(request: Request, secret: str, sent: str | None) -> bool:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw or len(raw) > 1024:
        return False
    try:
        expected = _signer(secret, "login").loads(raw, max_age=LOGIN_FORM_SECONDS)
    except BadSignature:
        return False
    return same(sent, str(expected))
