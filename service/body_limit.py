"""Oversized request bodies get the service's own refusal: JSON with a code and the limit.

FastAPI's ``max_body_size`` refuses a body that is too large before a byte is
spooled, but from a middleware outside every exception handler: plain text
("Content Too Large") when the declared length is too big, ``{"detail":
"Content Too Large"}`` when a streamed body grows too big. This wrapper sits
outside it and replaces any 413 that is not already in the service's
``{"detail": {"code", "message"}}`` shape, or a page (HTML: a page's own refusal, such as
too many files in the upload form, which the limit never sends). A page's request gets
its refusal as a page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too large · dlgrade</title>
<link rel="stylesheet" href="/static/dlgrade.css"></head><body><main><section class="card narrow">
<h1>Too large</h1><p class="error" role="alert">{}</p>
<p><a href="javascript:history.back()">Back</a> · <a href="/courses">Your courses</a></p>
</section></main></body></html>"""


def _ours(body: bytes) -> bool:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return False
    return isinstance(detail, dict) and "code" in detail


def _page(start: Message) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/html")
               for k, v in start.get("headers", []))


class JsonBodyTooLarge:
    """``is_page(path)``: answer a page's request (the upload form without JavaScript) with a
    page saying the same, not with JSON."""

    def __init__(self, app: ASGIApp, message: str,
                 is_page: Callable[[str], bool] = lambda path: False) -> None:
        self.app = app
        self.is_page = is_page
        self.body = json.dumps({"detail": {"code": "body_too_large", "message": message}}
                               ).encode()
        self.page = _PAGE.format(html.escape(message)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        held: list[bytes] = []

        async def send_or_replace(message: Message) -> None:
            nonlocal start
            if (message["type"] == "http.response.start" and message["status"] == 413
                    and not _page(message)):
                start = message  # hold it until the (short) body shows whose answer it is
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(held)
            if _ours(body):
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            page = self.is_page(scope["path"])
            body, kind = (self.page, b"text/html; charset=utf-8") if page else (
                self.body, b"application/json")
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", kind), (b"content-length", str(len(body)).encode()),
                (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_or_replace)
