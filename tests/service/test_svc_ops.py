"""Health, readiness, metrics, OpenAPI and structured logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from service.app import create_app
from service.context import Context
from service.logs import ContextFilter, JsonFormatter, log_context
from service.services.runner import process_job
from service.settings import Settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}


def test_readyz_fails_when_redis_is_unreachable(settings: Settings, ctx: Context) -> None:
    settings.redis_url = "redis://127.0.0.1:1/0"
    with TestClient(create_app(settings, context=ctx)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["redis"].startswith("error")


def test_metrics_report_queue_depth_durations_and_results(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    upload(client, world, "alice")
    text = client.get("/metrics").text
    assert f'dlgrade_queue_depth{{queue="{ctx.settings.queue("grading")}",status="queued"}} 1.0' \
        in text
    assert 'dlgrade_submissions{status="queued"} 1.0' in text
    for _, p in list(broker.sent):
        process_job(ctx, p["submission_id"], p["part"])
    text = client.get("/metrics").text
    assert 'dlgrade_problem_results_total{status="passed"} 1.0' in text
    assert "dlgrade_grading_duration_seconds_count 1.0" in text
    assert 'dlgrade_submissions{status="graded"} 1.0' in text


def test_openapi_document_is_served_and_valid(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert "/api/v1/assignments/{assignment_id}/submissions" in doc["paths"]
    assert doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["type"] == "oauth2"


def test_logs_are_json_lines_with_the_submission_id(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        caplog: pytest.LogCaptureFixture) -> None:
    sid = upload(client, world, "alice").json()["id"]
    caplog.set_level(logging.INFO, logger="dlgrade")
    for _, p in list(broker.sent):
        process_job(ctx, p["submission_id"], p["part"])
    graded = [r for r in caplog.records if r.getMessage() == "problem graded"]
    assert graded and all(r.submission_id == sid for r in graded)  # type: ignore[attr-defined]
    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "x"})
    with log_context(submission_id=42):
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["submission_id"] == 42 and line["message"] == "hello" and "time" in line


def test_compose_file_runs_everything_with_health_checks_and_narrow_privileges() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "worker-slow", "postgres", "redis"} <= set(services)
    for name, svc in services.items():
        assert "healthcheck" in svc, name
        assert not svc.get("privileged"), name
        if "build" in svc:
            assert (root / svc["build"]["dockerfile"]).exists()
    assert services["api"].get("cap_add") is None
    assert services["worker"]["cap_add"] == ["SYS_ADMIN"]
    assert {"pgdata", "submissions", "datasets"} <= set(compose["volumes"])


def test_dockerfiles_copy_what_exists_and_the_worker_gets_the_sandbox_tools() -> None:
    """What can be checked without a Docker daemon: sources, system packages, ignore rules."""
    root = Path(__file__).resolve().parents[2]
    for dockerfile in sorted((root / "docker").glob("*.Dockerfile")):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for src in line.split()[1:-1]:
                    matches = list(root.glob(src.rstrip("*") + "*" if "*" in src else src))
                    assert matches, f"{dockerfile.name}: COPY {src} matches nothing"
    worker = (root / "docker/worker.Dockerfile").read_text()
    assert all(pkg in worker for pkg in ("bubblewrap", "libseccomp2", "util-linux"))
    ignored = (root / ".dockerignore").read_text().split()
    assert {".git", "**/__pycache__", "dlgrade-data"} <= set(ignored)
