"""A course publishes its own bundle over the API; it is proven, then graded in the sandbox.

Real engine and sandbox (EngineGrader), real PostgreSQL; the worker's function is
called directly, as a Celery worker would.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REDIS_URL, RecordingBroker, World, queue_prefix
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from service.app import create_app
from service.context import Context, build_context
from service.models import CourseBundle, GradingRun, User
from service.services import bundles
from service.services.runner import process_job
from service.settings import Settings
from service.worker import CeleryBroker, create_celery

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "bundles" / "demo-layers-hw"
MARKER = "secret_marker_5c1f"  # a file of the reference that no sandbox may see
CORRECT = b"""
import numpy as np
def relu_forward(x):
    return np.maximum(0, x), x
def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)
"""
# Looks for the bundle's reference everywhere the sandbox lets it look; a hit would be
# rewarded with a correct relu_forward, so relu_forward's score tells whether it was found.
SNOOP = b"""
import os
import numpy as np
FOUND = []
for top in ("/", "/tmp", os.path.expanduser("~")):
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
        if "secret_marker_5c1f.txt" in files or "dlgrade-bundle.toml" in files:
            FOUND.append(root)
def relu_forward(x):
    return (np.maximum(0, x), x) if FOUND else (x * 0 - 1, x)
def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)
"""


@pytest.fixture
def settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=pg_url, redis_url=None, state_dir=tmp_path / "data",
                    secret_key=SecretStr("test-secret-" + "x" * 32),
                    grader="service.grading:EngineGrader", warm_sandboxes=0,
                    lease_seconds=60, queue_prefix=queue_prefix(), log_json=False)


def _zipped(version: str = "2026.1", spec_edit: tuple[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in EXAMPLE.rglob("*"):
            if f.is_dir() or "__pycache__" in f.parts:
                continue
            text = f.read_text()
            if f.name == "dlgrade-bundle.toml":
                text = text.replace('version = "2026.1"', f'version = "{version}"')
            if f.name == "spec.py" and spec_edit:
                text = text.replace(*spec_edit)
            zf.writestr(f"demo-layers-hw/{f.relative_to(EXAMPLE)}", text)
        zf.writestr(f"demo-layers-hw/reference/{MARKER}.txt", "SECRET = 42\n")
    return buf.getvalue()


def _publish(client: TestClient, world: World, who: str, data: bytes,
             course: str = "course_a") -> object:
    return client.post(f"/api/v1/courses/{world.ids[course]}/bundles", headers=world.h(who),
                       files=[("file", ("bundle.zip", data, "application/zip"))])


def _grade(client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
           assignment_id: int, who: str, source: bytes) -> dict:
    r = client.post(f"/api/v1/assignments/{assignment_id}/submissions", headers=world.h(who),
                    files=[("files", ("layers.py", source, "text/x-python"))])
    assert r.status_code == 201, r.text
    while broker.sent:
        _, payload = broker.sent.pop(0)
        process_job(ctx, payload["submission_id"], payload["part"])
    return client.get(f"/api/v1/submissions/{r.json()['id']}", headers=world.h(who)).json()


def test_a_published_bundle_is_proven_then_grades_uploads_of_its_course_only(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    refused = _publish(client, world, "inst_a", _zipped())
    assert refused.status_code == 403 and "administrator" in refused.text

    r = _publish(client, world, "admin", _zipped())
    assert r.status_code == 202, r.text
    bundle = client.get(f"/api/v1/courses/{world.ids['course_a']}/bundles/{r.json()['id']}",
                        headers=world.h("inst_a")).json()
    assert bundle["status"] == "ready", bundle["report"]
    assert "| affine_forward |" in bundle["report"]

    created = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                          headers=world.h("inst_a"), json={
                              "slug": "demo-layers-hw", "title": "HW2",
                              "opens_at": "2020-01-01T00:00:00",
                              "due_at": "2099-01-01T00:00:00"})
    assert created.status_code == 201, created.text
    key = created.json()["slug"]
    assert key.startswith("demo-layers-hw@")

    # Another course sees neither the bundle's slug nor, by hash, the bundle itself.
    for slug in ("demo-layers-hw", key):
        other = client.post(f"/api/v1/courses/{world.ids['course_b']}/assignments",
                            headers=world.h("inst_b"), json={
                                "slug": slug, "title": "stolen",
                                "opens_at": "2020-01-01T00:00:00",
                                "due_at": "2099-01-01T00:00:00"})
        assert other.status_code in (403, 422), other.text
    assert client.get(f"/api/v1/courses/{world.ids['course_b']}/bundles/{r.json()['id']}",
                      headers=world.h("inst_b")).status_code == 404

    aid = created.json()["id"]
    good = _grade(client, world, ctx, broker, aid, "alice", CORRECT)
    assert good["score"] == 3.0 and good["max_score"] == 3.0
    assert good["grader_version"].endswith("bundle 2026.1")

    snoop = _grade(client, world, ctx, broker, aid, "bob", SNOOP)
    scores = {p["id"]: p["score"] for p in snoop["problems"]}
    assert scores == {"relu_forward": 0.0, "affine_forward": 2.0}, snoop


def test_a_new_version_is_chosen_by_the_instructor_and_results_name_it(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    first = _publish(client, world, "admin", _zipped("1.0")).json()
    created = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                          headers=world.h("inst_a"), json={
                              "slug": "demo-layers-hw", "title": "HW2",
                              "opens_at": "2020-01-01T00:00:00",
                              "due_at": "2099-01-01T00:00:00"}).json()
    again = _publish(client, world, "admin", _zipped("1.0"))
    assert again.status_code == 409 and "raise the version" in again.text
    second = _publish(client, world, "admin", _zipped("1.1")).json()
    assert first["status"] == "checking" and second["id"] != first["id"]

    r = client.patch(f"/api/v1/assignments/{created['id']}", headers=world.h("inst_a"),
                     json={"bundle_version": "1.1"})
    assert r.status_code == 200, r.text
    assert r.json()["slug"] != created["slug"]
    graded = _grade(client, world, ctx, broker, created["id"], "alice", CORRECT)
    assert graded["grader_version"].endswith("bundle 1.1")


def test_a_broken_or_weak_bundle_is_refused_with_the_reason(
        client: TestClient, world: World) -> None:
    broken = _publish(client, world, "admin", _zipped(spec_edit=("def relu_forward(", "def (")))
    assert broken.status_code == 422
    reason = broken.json()["detail"]["message"]
    assert "demo-layers-hw/spec.py:12: syntax error" in reason, reason

    weak = _publish(client, world, "admin", _zipped(spec_edit=(
        "ref.affine_forward(x, w, b)[0])", "ref.affine_forward(x, w, b)[0], tol=1.0)")))
    assert weak.status_code == 202
    row = client.get(f"/api/v1/courses/{world.ids['course_a']}/bundles/{weak.json()['id']}",
                     headers=world.h("admin")).json()
    assert row["status"] == "rejected" and "Survived mutants" in row["report"]
    use = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                      headers=world.h("inst_a"), json={
                          "slug": "demo-layers-hw", "title": "HW2",
                          "opens_at": "2020-01-01T00:00:00", "due_at": "2099-01-01T00:00:00"})
    assert use.status_code == 422 and "rejected" in use.text


@contextmanager
def _celery(ctx: Context, settings: Settings, kinds: Sequence[str]) -> Iterator[Callable[[], Any]]:
    """Celery over the real Redis as the API's broker; yields what starts a worker on the
    queues of ``kinds``, and empties those queues afterwards."""
    from celery.contrib.testing.worker import start_worker

    settings.redis_url = REDIS_URL
    app = create_celery(settings, ctx)
    ctx.broker = CeleryBroker(app)
    queues = [settings.queue(k) for k in kinds]
    try:
        yield lambda: start_worker(app, pool="solo", perform_ping_check=False,
                                   loglevel="WARNING", queues=queues)
    finally:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(*queues)


def test_an_uploaded_bundle_grades_a_student_upload_through_redis_and_celery(
        client: TestClient, world: World, ctx: Context, settings: Settings) -> None:
    with _celery(ctx, settings, ("grading", "training", "regrade")) as worker:
        with worker():
            published = _publish(client, world, "admin", _zipped())
            assert published.status_code == 202
            assert _wait_checked(ctx, published.json()["id"]).status == "ready"
            created = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                                  headers=world.h("inst_a"), json={
                                      "slug": "demo-layers-hw", "title": "HW2",
                                      "opens_at": "2020-01-01T00:00:00",
                                      "due_at": "2099-01-01T00:00:00"}).json()
            sub = client.post(f"/api/v1/assignments/{created['id']}/submissions",
                              headers=world.h("alice"),
                              files=[("files", ("layers.py", CORRECT, "text/x-python"))]).json()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = client.get(f"/api/v1/submissions/{sub['id']}", headers=world.h("alice"))
                if got.json()["status"] in ("graded", "error"):
                    break
                time.sleep(0.5)
        assert got.json()["status"] == "graded" and got.json()["score"] == 3.0, got.text


def test_a_bundle_whose_check_exhausts_memory_costs_the_check_not_the_api(
        client: TestClient, world: World, ctx: Context) -> None:
    """The strength check parses and scores replies on the trusted side: in a child under
    the grader's memory ceiling, a 3 GB allocation there rejects the bundle, with the
    reason, and never reaches the API's own process."""
    import resource

    ctx.settings.grader_memory_limit_mb = 400
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bomb = _publish(client, world, "admin", _zipped(spec_edit=(
        '    yield close("relu_forward(x)"',
        '    ballast = b"x" * (3 << 30)\n    yield close("relu_forward(x)"')))
    assert bomb.status_code == 202, bomb.text
    row = client.get(f"/api/v1/courses/{world.ids['course_a']}/bundles/{bomb.json()['id']}",
                     headers=world.h("admin")).json()
    assert row["status"] == "rejected"
    assert "more memory than the grader may use (400 MB" in row["report"], row["report"]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    assert grown_mb < 1000, f"the API's process grew by {grown_mb:.0f} MB"
    assert client.get("/healthz").status_code == 200


def _bundle_row(ctx: Context, bundle_id: int) -> CourseBundle:
    with ctx.sessions() as s:
        row = s.get(CourseBundle, bundle_id)
        assert row is not None
        return row


def _wait_checked(ctx: Context, bundle_id: int, seconds: float = 180) -> CourseBundle:
    deadline = time.monotonic() + seconds
    while (row := _bundle_row(ctx, bundle_id)).status == "checking":
        assert time.monotonic() < deadline, f"still checking: {row.progress}"
        time.sleep(0.5)
    return row


def _publish_quietly(ctx: Context, world: World, version: str = "2026.1") -> int:
    """Stored and recorded as checking, as an upload is, with no check started."""
    with ctx.sessions() as s:
        admin = s.get(User, world.ids["admin"])
        assert admin is not None
        return bundles.publish(ctx, s, world.ids["course_a"], admin, _zipped(version)).id


def test_with_celery_the_check_runs_on_a_worker_not_in_the_api(
        client: TestClient, world: World, ctx: Context, settings: Settings) -> None:
    """The API's container has no sandbox: with a broker, the check is a worker's task."""
    with _celery(ctx, settings, ("regrade",)) as worker:
        r = _publish(client, world, "admin", _zipped())
        assert r.status_code == 202, r.text
        time.sleep(1)
        assert _bundle_row(ctx, r.json()["id"]).status == "checking"  # nothing ran here
        with worker():
            row = _wait_checked(ctx, r.json()["id"])
        assert row.status == "ready", row.report
        assert "| affine_forward |" in row.report


def test_an_unreachable_queue_refuses_the_upload_so_it_can_be_sent_again(
        client: TestClient, world: World, ctx: Context) -> None:
    class DeadCelery:
        def send(self, queue: str, payload: dict) -> None:
            raise ConnectionError("down")

        def check_bundle(self, bundle_id: int) -> None:
            raise ConnectionError("down")

    ctx.broker = DeadCelery()  # type: ignore[assignment]
    r = _publish(client, world, "admin", _zipped())
    assert r.status_code == 503 and r.json()["detail"]["code"] == "queue_unavailable"
    assert not list(ctx.settings.bundles_dir.glob("*.zip"))  # nothing kept of it
    ctx.broker = RecordingBroker()
    assert _publish(client, world, "admin", _zipped()).status_code == 202


def test_a_check_cut_short_by_a_restart_runs_again_when_the_embedded_service_starts(
        world: World, ctx: Context, settings: Settings) -> None:
    bundle_id = _publish_quietly(ctx, world)  # then the process stopped mid-check
    restarted = build_context(settings)  # no broker: embedded, as `dlgrade serve` alone
    try:
        with TestClient(create_app(settings, context=restarted)):
            row = _wait_checked(ctx, bundle_id)
    finally:
        restarted.close()
    assert row.status == "ready", row.report


def test_a_version_left_checking_past_any_deadline_may_be_published_again(
        client: TestClient, world: World, ctx: Context) -> None:
    stuck = _publish_quietly(ctx, world)
    again = _publish(client, world, "admin", _zipped())
    assert again.status_code == 409  # its check may still be running: not yet
    check_limit = timedelta(seconds=ctx.settings.bundle_check_seconds
                            + ctx.settings.visibility_timeout + 60)
    with ctx.sessions() as s:
        row = s.get(CourseBundle, stuck)
        assert row is not None
        row.created_at -= check_limit   # uploaded long ago, but still waiting in the queue
        s.commit()
    assert _publish(client, world, "admin", _zipped()).status_code == 409
    with ctx.sessions() as s:
        row = s.get(CourseBundle, stuck)
        assert row is not None
        row.check_started_at = row.created_at   # its check began then, and died
        s.commit()
    again = _publish(client, world, "admin", _zipped())
    assert again.status_code == 202, again.text
    assert _bundle_row(ctx, again.json()["id"]).status == "ready"


def test_a_check_waiting_in_the_queue_past_the_queue_limit_is_given_up(
        client: TestClient, world: World, ctx: Context) -> None:
    stuck = _publish_quietly(ctx, world)
    with ctx.sessions() as s:
        row = s.get(CourseBundle, stuck)
        assert row is not None and row.check_started_at is None
        row.created_at -= timedelta(hours=ctx.settings.max_queued_hours, minutes=1)
        s.commit()
    assert _publish(client, world, "admin", _zipped()).status_code == 202


def test_the_setting_lets_a_courses_instructors_publish_for_that_course_alone(
        client: TestClient, world: World, ctx: Context) -> None:
    assert _publish(client, world, "inst_a", _zipped()).status_code == 403
    ctx.settings.instructors_publish_bundles = True
    mine = _publish(client, world, "inst_a", _zipped())
    assert mine.status_code == 202, mine.text
    assert _bundle_row(ctx, mine.json()["id"]).status == "ready"
    other = _publish(client, world, "inst_a", _zipped(), course="course_b")
    assert other.status_code == 403, other.text
    students = _publish(client, world, "alice", _zipped("2026.2"))
    assert students.status_code == 403, students.text


def _runs(ctx: Context, submission_id: int) -> list[str | None]:
    with ctx.sessions() as s:
        return list(s.scalars(select(GradingRun.grader_version).where(
            GradingRun.submission_id == submission_id).order_by(GradingRun.id)))


def test_results_keep_their_bundle_version_until_the_instructor_regrades_with_the_new_one(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    assert _publish(client, world, "admin", _zipped("1.0")).status_code == 202
    created = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                          headers=world.h("inst_a"), json={
                              "slug": "demo-layers-hw", "title": "HW2",
                              "opens_at": "2020-01-01T00:00:00",
                              "due_at": "2099-01-01T00:00:00"}).json()
    old = _grade(client, world, ctx, broker, created["id"], "alice", CORRECT)
    assert old["grader_version"].endswith("bundle 1.0")

    # A new version, chosen for the assignment without a regrade: what was graded stays
    # graded with 1.0 and says so; new uploads are graded with 1.1.
    assert _publish(client, world, "admin", _zipped("1.1")).json()["status"] == "checking"
    assert client.patch(f"/api/v1/assignments/{created['id']}", headers=world.h("inst_a"),
                        json={"bundle_version": "1.1"}).status_code == 200
    kept = client.get(f"/api/v1/submissions/{old['id']}", headers=world.h("alice")).json()
    assert kept["grader_version"].endswith("bundle 1.0") and kept["score"] == 3.0
    new = _grade(client, world, ctx, broker, created["id"], "bob", CORRECT)
    assert new["grader_version"].endswith("bundle 1.1")
    assert not broker.sent

    # The instructor chooses to regrade: every finished submission is graded with 1.1,
    # and the earlier run keeps the version it was graded with.
    r = client.post(f"/api/v1/assignments/{created['id']}/regrade", headers=world.h("inst_a"),
                    json={"reason": "bundle 1.1"})
    assert r.status_code == 202 and sorted(r.json()["queued"]) == sorted([old["id"], new["id"]])
    while broker.sent:
        _, payload = broker.sent.pop(0)
        process_job(ctx, payload["submission_id"], payload["part"])
    regraded = client.get(f"/api/v1/submissions/{old['id']}", headers=world.h("alice")).json()
    assert regraded["grader_version"].endswith("bundle 1.1") and regraded["score"] == 3.0
    versions = [v.rsplit(" ", 1)[-1] if v else v for v in _runs(ctx, old["id"])]
    assert versions == ["1.0", "1.1"]
