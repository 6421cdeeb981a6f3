"""Adds the pages to the app: their routes, static files, and errors shown as pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.web import account, staff_assignment, staff_course, staff_review, student
from service.web.render import HERE, render

_NOT_PAGES = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json",
              "/static/")


def is_page_path(path: str) -> bool:
    """A path of a page (answered in HTML), not of the API (answered in JSON)."""
    return not path.startswith(_NOT_PAGES)


def is_page(request: Request) -> bool:
    return is_page_path(request.url.path)


def error_page(request: Request, status_code: int, message: Any,
               headers: dict[str, str] | None = None) -> Response:
    if status_code == 401:
        return RedirectResponse(account.login_url(request), status_code=303)
    response = render(request, "error.html", status_code, status=status_code,
                      message=message if isinstance(message, str) else str(message))
    if headers:
        response.headers.update({k: v for k, v in headers.items() if k != "WWW-Authenticate"})
    return response


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "the request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "the form was not filled in correctly"


def install(app: FastAPI) -> None:
    # student last: its /courses/{course_id} must not shadow fixed paths such as /courses/new
    for router in (account.router, staff_course.router, staff_assignment.router,
                   staff_review.router, student.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_page(request):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not is_page(request):
            return await request_validation_exception_handler(request, exc)
        return error_page(request, 422, _validation_message(exc))
