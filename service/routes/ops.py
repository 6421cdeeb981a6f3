"""Health, readiness and metrics: for load balancers and Prometheus, no authentication."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.deps import Ctx
from service.services.workers import WorkerView, idle_queues

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(ctx: Ctx) -> JSONResponse:
    """Ready to take uploads: the database answers and, with a broker, Redis does too.

    ``workers`` says whether every queue has a worker consuming it. A queue with
    none makes the status ``degraded`` but not 503: uploads are still kept and
    graded once a worker is back, and taking every API replica out of a load
    balancer would stop students from reading their results too.
    """
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if ctx.settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(ctx.settings.redis_url, socket_timeout=2,
                                 socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    status = "ok" if ok else "unavailable"
    if ok and isinstance(ctx.broker, WorkerView):
        idle = idle_queues(ctx.broker)
        checks["workers"] = f"no worker consumes {', '.join(idle)}" if idle else "ok"
        status = "degraded" if idle else status
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (requests, queue, grading); no authentication."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
