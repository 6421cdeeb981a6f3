"""A notice ("saved", "refused") carried across the redirect after a form is posted.

Post, redirect, get: the page after a form is a plain GET (a reload does not
post twice), so what the form did travels in a cookie. It is signed with its
own salt (a session cookie cannot be replayed as a flash, nor the reverse),
lives two minutes, and is deleted by the first page that shows it. It is
text: the template escapes it like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

FLASH_COOKIE = "dlgrade_flash"
MAX_AGE_SECONDS = 120
Kind = Literal["saved", "refused"]


@dataclass(frozen=True)
class Flash:
    kind: Kind
    text: str


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="dlgrade-flash")


def redirect(request: Request, url: str, text: str, kind: Kind = "saved") -> RedirectResponse:
    """303 to ``url``, which then says ``text`` once."""
    response = RedirectResponse(url, status_code=303)
    value = _signer(request.app.state.ctx.secret).dumps({"k": kind, "t": text[:1000]})
    response.set_cookie(FLASH_COOKIE, value, max_age=MAX_AGE_SECONDS, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return response


def take(request: Request) -> Flash | None:
    """The notice the browser carries, if it is ours and fresh; ``forget`` then deletes it."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _signer(request.app.state.ctx.secret).loads(raw, max_age=MAX_AGE_SECONDS)
        kind = "refused" if data["k"] == "refused" else "saved"
        return Flash(kind, str(data["t"]))
    except (BadSignature, KeyError, TypeError):
        return None


def forget(request: Request, response: Response) -> None:
    """Said once: a page that read the cookie deletes it."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")
