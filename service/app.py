"""``create_app(settings)``: the API, and in embedded mode the worker threads beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from graders.errors import DlgradeError, SubmissionError
from service.body_limit import JsonBodyTooLarge
from service.context import Context, build_context
from service.isolation import IsolatedGrader
from service.metrics import make_registry
from service.routes import assignments, auth, bundles, courses, ops, submissions
from service.services.bundles import recover_checks
from service.services.errors import ServiceError
from service.services.queue import Broker, LocalBroker, Sweeper, recover_local
from service.services.runner import process_job
from service.settings import Settings
from service.web import mount as web

log = logging.getLogger("dlgrade.api")


def default_broker(settings: Settings, ctx: Context) -> Broker:
    if settings.embedded:
        kinds = ("grading", "training", "regrade")
        return LocalBroker(lambda p: process_job(ctx, p["submission_id"], p.get("part", "all")),
                           [settings.queue(k) for k in kinds])
    from service.worker import CeleryBroker, create_celery

    return CeleryBroker(create_celery(settings))


class _Api(FastAPI):
    too_large = "the request body is too large"

    def build_middleware_stack(self) -> Any:
        return JsonBodyTooLarge(super().build_middleware_stack(), self.too_large,
                                is_page=web.is_page_path)


def _snake(name: str) -> str:
    """``UnreadableNotebook`` → ``unreadable_notebook``, the style of the API's other codes."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n % 2**20 else f"{n // 2**20} MB"


def create_app(settings: Settings, *, broker: Broker | None = None,
               context: Context | None = None) -> FastAPI:
    """Tests pass their own broker (or context); production uses the one settings imply."""
    ctx = context or build_context(settings)
    if broker is not None:
        ctx.broker = broker
    elif ctx.broker is None:
        ctx.broker = default_broker(settings, ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = None
        ctx.changes.listen()  # workers' announcements wake the live pages and long polls
        if isinstance(ctx.broker, LocalBroker):
            ctx.broker.start()
            recover_local(ctx)  # whatever the previous run left queued or running
            recover_checks(ctx)  # and bundles it was strength-checking
            sweeper = Sweeper(ctx, settings.sweep_interval_seconds)
            sweeper.start()
        yield
        ctx.changes.close()
        if sweeper is not None:
            sweeper.stop()
        if isinstance(ctx.broker, LocalBroker):
            # Grading children first, so they stop their sandboxes themselves: once their
            # thread ends they are killed (PR_SET_PDEATHSIG) with no time to clean up.
            if isinstance(ctx.grader, IsolatedGrader):
                ctx.grader.close()
            ctx.broker.stop()

    # A body larger than any acceptable upload is refused before it is read: without a
    # limit, Starlette spools the whole of it to a temporary file (even before the
    # route's authentication and size checks run).
    body_limit = settings.max_upload_bytes + settings.max_files * 1024 + 64 * 1024
    app = _Api(title="dlgrade", version="1", lifespan=lifespan, max_body_size=body_limit,
               description="Autograder service: submit, get results, run the course.")
    app.too_large = (f"the request body is larger than this service accepts: a submission "
                     f"may have at most {settings.max_files} files and "
                     f"{_mb(settings.max_upload_bytes)} in all")
    app.state.ctx = ctx
    app.state.metrics = make_registry(ctx)
    for r in (auth, courses, assignments, submissions, bundles):
        app.include_router(r.router, prefix="/api/v1")
    app.include_router(ops.router)

    web.install(app)

    def refuse(request: Request, status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> Response:
        """A page for a browser's page or form, the API's JSON for everyone else."""
        if web.is_page(request):
            return web.error_page(request, status, message, headers)
        return JSONResponse({"detail": {"code": code, "message": message}},
                            status_code=status, headers=headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return refuse(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        """The database is unreachable or restarting: the client should try again shortly."""
        log.error("database unavailable in a request: %s", type(exc.orig).__name__)
        return refuse(request, 503, "database_unavailable",
                      "the database is unavailable right now; please try again shortly",
                      {"Retry-After": "5"})

    @app.exception_handler(IntegrityError)
    async def _raced(request: Request, exc: IntegrityError) -> Response:
        """A uniqueness check passed, then a concurrent request stored the same thing first."""
        log.info("integrity conflict in a request: %s", type(exc.orig).__name__)
        return refuse(request, 409, "conflict",
                      "another request stored the same thing at the same moment; reload and "
                      "try again")

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> Response:
        """A value the database cannot hold (an id past its integer range): the client's."""
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        return refuse(request, 422, "invalid_value", f"a value in the request is invalid: {reason}")

    @app.exception_handler(DlgradeError)
    async def _engine_error(request: Request, exc: DlgradeError) -> Response:
        if isinstance(exc, SubmissionError):  # the upload's fault, said to the student
            return refuse(request, 422, _snake(type(exc).__name__), str(exc))
        log.error("engine error in a request", exc_info=exc)
        return refuse(request, 503, type(exc).__name__, str(exc))

    return app


def app_factory() -> Any:
    """For ``uvicorn --factory service.app:app_factory``: settings from the environment."""
    from service.db import migrate
    from service.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    migrate(settings.db_url)
    return create_app(settings)
