"""Students upload, the queue grades, students read results (hidden checks stay hidden)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.context import Context, build_context
from service.models import Assignment, GradingJob, Outbox, ProblemResult, Submission, utcnow
from service.services.runner import process_job
from service.settings import Settings


def grade_all(ctx: Context, broker: RecordingBroker) -> list[str]:
    """What a worker would do with every message sent so far."""
    out = []
    while broker.sent:
        _, payload = broker.sent.pop(0)
        out.append(process_job(ctx, payload["submission_id"], payload["part"]))
    return out


def test_upload_stores_files_queues_and_sends_after_commit(client: TestClient, world: World,
                                                           ctx: Context,
                                                           broker: RecordingBroker) -> None:
    r = upload(client, world, "alice", content="p1 p2 t1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued" and body["attempt"] == 1
    f = body["files"][0]
    assert f["size"] == 8 and f["sha256"] == hashlib.sha256(b"p1 p2 t1").hexdigest()
    # quick problems and the training problem go to separate queues
    queues = sorted(q.split(".")[-1] for q, _ in broker.sent)
    assert queues == ["grading", "training"]
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)
                        .where(Outbox.sent_at.is_(None))) == 0
    assert grade_all(ctx, broker) == ["part-done", "graded"]
    r = client.get(f"/api/v1/submissions/{body['id']}", headers=world.h("alice"))
    res = r.json()
    assert res["status"] == "graded"
    assert {p["id"]: p["status"] for p in res["problems"]} == {
        "p1": "passed", "p2": "partial", "m1": "manual", "t1": "passed"}
    assert res["score"] == 2 + 1.5 + 2 and res["max_score"] == 11
    assert res["grader_version"] == "fake-1" and isinstance(res["seed"], int)


def test_files_are_downloadable_byte_for_byte(client: TestClient, world: World) -> None:
    data = "p1\r\n\u00e9\x00"
    sub = upload(client, world, "alice", content=data).json()
    fid = sub["files"][0]["id"]
    for who in ("alice", "inst_a"):
        r = client.get(f"/api/v1/submissions/{sub['id']}/files/{fid}", headers=world.h(who))
        assert r.status_code == 200 and r.content == data.encode()
    for who in ("bob", "inst_b", "carol"):
        r = client.get(f"/api/v1/submissions/{sub['id']}/files/{fid}", headers=world.h(who))
        assert r.status_code == 403


def test_hidden_checks_show_as_hidden_until_the_due_date(client: TestClient, world: World,
                                                         ctx: Context,
                                                         broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="p1").json()["id"]
    grade_all(ctx, broker)
    p2 = next(p for p in client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice"))
              .json()["problems"] if p["id"] == "p2")
    assert p2["checks"][1] == {"name": "hidden", "key": "hidden", "status": "hidden",
                               "message": "", "hidden": True}
    assert "secret" not in str(p2)
    staff = client.get(f"/api/v1/submissions/{sid}", headers=world.h("inst_a")).json()
    assert "secret detail" in str(staff)
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        assert a is not None
        a.opens_at, a.due_at = utcnow() - timedelta(days=3), utcnow() - timedelta(seconds=1)
        s.commit()
    after = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    assert "secret detail" in str(after)


def test_assignment_flag_shows_hidden_details_before_due(client: TestClient, world: World,
                                                         ctx: Context,
                                                         broker: RecordingBroker) -> None:
    aid = world.add_assignment("open_book", show_hidden_details=True)
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                    files=[("files", ("s.py", b"p1", "text/plain"))])
    grade_all(ctx, broker)
    res = client.get(f"/api/v1/submissions/{r.json()['id']}", headers=world.h("alice")).json()
    assert "secret detail" in str(res)


def test_task_delivered_twice_grades_once(client: TestClient, world: World, ctx: Context,
                                          broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    dup = list(broker.sent)
    grade_all(ctx, broker)
    assert [process_job(ctx, p["submission_id"], p["part"]) for _, p in dup] == ["skipped"] * 2
    with ctx.sessions() as s:
        n = s.scalar(select(func.count()).select_from(ProblemResult))
        assert n == 4
        assert s.get(Submission, sid).status == "graded"  # type: ignore[union-attr]


def test_grading_error_retries_then_marks_infrastructure_error(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="crash").json()["id"]
    outcomes = grade_all(ctx, broker)
    assert outcomes.count("error") == 2  # both parts, after max_tries attempts each
    assert outcomes.count("retry") == 2 * (ctx.settings.max_tries - 1)
    res = client.get(f"/api/v1/submissions/{sid}", headers=world.h("inst_a")).json()
    assert res["status"] == "error" and "internal grading error" in res["error"]
    assert res["error_kind"] == "infrastructure"  # the grader failed, not the code
    listed = client.get(f"/api/v1/assignments/{world.ids['a1']}/submissions?status=error",
                        headers=world.h("inst_a")).json()
    assert [(x["id"], x["error_kind"]) for x in listed] == [(sid, "infrastructure")]


def test_worker_that_cannot_read_the_stored_files_is_an_infrastructure_error(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        settings: Settings, tmp_path: Path) -> None:
    """A worker started with another state directory must not grade the upload 0 points."""
    sid = upload(client, world, "alice").json()["id"]
    elsewhere = build_context(settings.model_copy(update={"state_dir": tmp_path / "other"}),
                              broker=broker)
    try:
        outcomes = grade_all(elsewhere, broker)
    finally:
        elsewhere.close()
    assert outcomes.count("error") == 2 and outcomes.count("graded") == 0
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProblemResult)) == 0
        jobs = s.scalars(select(GradingJob).where(GradingJob.submission_id == sid)).all()
        assert all(j.tries == ctx.settings.max_tries for j in jobs)
        assert all("DLGRADE_SUBMISSIONS_PATH" in (j.last_error or "") for j in jobs)
    res = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    assert res["status"] == "error" and res["error_kind"] == "infrastructure"
    assert "could not read the files stored" in res["error"]
    assert str(tmp_path) not in res["error"]  # server paths stay in the operators' logs
    listed = client.get(f"/api/v1/assignments/{world.ids['a1']}/submissions?status=error",
                        headers=world.h("inst_a")).json()
    assert [x["id"] for x in listed] == [sid]


def test_results_appear_problem_by_problem(client: TestClient, world: World, ctx: Context,
                                           broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    quick = next(p for q, p in broker.sent if q.endswith("grading"))
    assert process_job(ctx, sid, quick["part"]) == "part-done"
    res = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    assert res["status"] == "running"
    assert [p["id"] for p in res["problems"]] == ["p1", "p2", "m1"]


def test_long_poll_returns_when_results_arrive(client: TestClient, world: World, ctx: Context,
                                               broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    r = client.get(f"/api/v1/submissions/{sid}/wait?timeout=0.5", headers=world.h("alice"))
    assert r.status_code == 200 and r.json()["status"] == "queued"
    grade_all(ctx, broker)
    r = client.get(f"/api/v1/submissions/{sid}/wait?timeout=10", headers=world.h("alice"))
    assert r.json()["status"] == "graded"
    r = client.get(f"/api/v1/submissions/{sid}/wait", headers=world.h("bob"))
    assert r.status_code == 403


def test_sse_stream_ends_with_the_graded_submission(client: TestClient, world: World,
                                                    ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    grade_all(ctx, broker)
    with client.stream("GET", f"/api/v1/submissions/{sid}/events",
                       headers=world.h("alice")) as r:
        body = "".join(r.iter_text())
    assert r.headers["content-type"].startswith("text/event-stream")
    assert body.startswith("event: submission\ndata: ") and '"status":"graded"' in body


def test_list_own_submissions_only(client: TestClient, world: World) -> None:
    upload(client, world, "alice")
    bob = upload(client, world, "bob").json()["id"]
    mine = client.get(f"/api/v1/assignments/{world.ids['a1']}/my-submissions",
                      headers=world.h("alice")).json()
    assert [m["user_id"] for m in mine] == [world.ids["alice"]]
    other = client.get(f"/api/v1/submissions/{bob}", headers=world.h("alice"))
    assert other.status_code == 403


def test_upload_refused_when_closed_or_not_open(client: TestClient, world: World) -> None:
    now = utcnow()
    closed = world.add_assignment("closed", opens_at=now - timedelta(days=5),
                                  due_at=now - timedelta(days=1))
    future = world.add_assignment("future", opens_at=now + timedelta(days=1),
                                  due_at=now + timedelta(days=5))
    for aid, code in ((closed, "closed"), (future, "not_open")):
        r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                        files=[("files", ("s.py", b"p1", "text/plain"))])
        assert r.status_code == 403 and r.json()["detail"]["code"] == code


def test_late_submissions_accepted_until_last_accepted_date(client: TestClient,
                                                            world: World) -> None:
    now = utcnow()
    aid = world.add_assignment("late_ok", opens_at=now - timedelta(days=5),
                               due_at=now - timedelta(hours=30),
                               last_accepted_at=now + timedelta(days=1), late_penalty_per_day=0.1)
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                    files=[("files", ("s.py", b"p1", "text/plain"))])
    assert r.status_code == 201 and r.json()["days_late"] == 2


def test_upload_refused_when_limit_reached_until_extra_attempts(client: TestClient,
                                                                world: World) -> None:
    aid = world.add_assignment("limited", max_submissions=1)
    files = [("files", ("s.py", b"p1", "text/plain"))]
    assert client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                       files=files).status_code == 201
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                    files=files)
    assert r.status_code == 409 and r.json()["detail"]["code"] == "limit_reached"
    assert "1 of 1" in r.json()["detail"]["message"]
    g = client.post(f"/api/v1/assignments/{aid}/extra-attempts", headers=world.h("inst_a"),
                    json={"user_id": world.ids["alice"], "count": 1, "reason": "sick"})
    assert g.status_code == 201
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                    files=files)
    assert r.status_code == 201 and r.json()["attempt"] == 2


def test_extra_attempts_are_listed_and_revoked(client: TestClient, world: World) -> None:
    aid = world.add_assignment("limited", max_submissions=1)
    url, h = f"/api/v1/assignments/{aid}/extra-attempts", world.h("inst_a")
    files = [("files", ("s.py", b"p1", "text/plain"))]
    sick = client.post(url, headers=h, json={"user_id": world.ids["alice"], "count": 1,
                                             "reason": "sick"}).json()
    client.post(url, headers=h, json={"user_id": world.ids["bob"], "count": 3})
    listed = client.get(url, headers=h).json()
    assert [(g["email"], g["count"], g["reason"]) for g in listed] == [
        ("alice@example.org", 1, "sick"), ("bob@example.org", 3, "")]
    assert listed[0]["id"] == sick["id"] and listed[0]["granted_by"] == world.ids["inst_a"]
    assert client.get(url, headers=world.h("alice")).status_code == 403
    assert client.delete(f"{url}/{sick['id']}", headers=world.h("alice")).status_code == 403
    assert client.delete(f"{url}/{sick['id']}", headers=h).status_code == 204
    assert [g["email"] for g in client.get(url, headers=h).json()] == ["bob@example.org"]
    for attempt in (1, 2):  # alice is back at the assignment's limit of one
        r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                        files=files)
        assert r.status_code == (201 if attempt == 1 else 409)
    again = client.delete(f"{url}/{sick['id']}", headers=h)
    assert again.status_code == 404 and again.json()["detail"]["code"] == "no_extra_attempts"
    other = world.add_assignment("other")
    bob = client.get(url, headers=h).json()[0]["id"]
    assert client.delete(f"/api/v1/assignments/{other}/extra-attempts/{bob}",
                         headers=h).status_code == 404  # a grant of another assignment


def test_upload_refused_when_interval_too_short(client: TestClient, world: World) -> None:
    aid = world.add_assignment("slow", min_interval_seconds=600)
    files = [("files", ("s.py", b"p1", "text/plain"))]
    client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"), files=files)
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                    files=files)
    assert r.status_code == 429 and r.json()["detail"]["code"] == "interval_too_short"
    assert 590 <= int(r.headers["retry-after"]) <= 600


def test_upload_size_and_name_limits(client: TestClient, world: World, ctx: Context) -> None:
    ctx.settings.max_file_bytes = 10
    big = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                      headers=world.h("alice"), files=[("files", ("s.py", b"x" * 11, "t/p"))])
    assert big.status_code == 413 and big.json()["detail"]["code"] == "file_too_large"
    bad = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                      headers=world.h("alice"), files=[("files", ("../evil.py", b"x", "t/p"))])
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "bad_file_name"
    empty = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                        headers=world.h("alice"), files=[("files", ("s.py", b"", "t/p"))])
    assert empty.status_code == 422
    ctx.settings.max_files = 1
    many = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                       headers=world.h("alice"),
                       files=[("files", ("a.py", b"1", "t/p")), ("files", ("b.py", b"2", "t/p"))])
    assert many.status_code == 413 and many.json()["detail"]["code"] == "too_many_files"
    with ctx.sessions() as s:  # nothing half-stored
        assert s.scalar(select(func.count()).select_from(Submission)) == 0
    assert not any((ctx.settings.submissions_dir).rglob("*.py"))


UNGRADABLE = [
    ([("hw.ipynb", b'{"nbformat": 4, "cells": [')], "unreadable_notebook",
     "hw.ipynb is not valid JSON (line 1, column 27"),
    ([("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")], "nothing_to_grade",
     "The upload has no code to grade (report.pdf)"),
    ([("hw.ipynb", b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
                   b'[{"cell_type": "markdown", "metadata": {}, "source": "# answers"}]}')],
     "nothing_to_grade", "hw.ipynb holds no code cells"),
    ([("weights.py", b"w = [" + b"0.5, " * 220_000 + b"]\n")], "code_too_large",
     "weights.py is 1.1 MB; the limit is 1 MB of code per file"),
]


@pytest.mark.parametrize(("files", "code", "message"), UNGRADABLE,
                         ids=["broken-notebook", "pdf-only", "no-code-cells", "too-much-code"])
def test_upload_that_cannot_earn_a_point_is_refused_with_the_reason_and_no_attempt(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        files: list[tuple[str, bytes]], code: str, message: str) -> None:
    aid = world.add_assignment("one_try", max_submissions=1)
    url = f"/api/v1/assignments/{aid}/submissions"
    r = client.post(url, headers=world.h("alice"),
                    files=[("files", (name, data, "application/octet-stream"))
                           for name, data in files])
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["code"] == code
    assert message in r.json()["detail"]["message"]
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0
    assert not any(p.is_file() for p in ctx.settings.submissions_dir.rglob("*"))
    assert broker.sent == []
    ok = client.post(url, headers=world.h("alice"), files=[("files", ("s.py", b"p1", "t/p"))])
    assert ok.status_code == 201 and ok.json()["attempt"] == 1  # the one attempt is still there


def test_instructors_and_other_courses_cannot_upload(client: TestClient, world: World) -> None:
    assert upload(client, world, "inst_a").status_code == 403
    assert upload(client, world, "carol").status_code == 403
    assert upload(client, world, "inst_b").status_code == 403


def test_only_one_job_runs_at_a_time(client: TestClient, world: World, ctx: Context) -> None:
    sid = upload(client, world, "alice").json()["id"]
    from service.services.runner import claim

    first = claim(ctx, sid, "quick", "w1")
    assert first is not None
    assert claim(ctx, sid, "quick", "w2") is None
    with ctx.sessions() as s:
        job = s.get(GradingJob, first.job_id)
        assert job is not None and job.lease_owner == "w1" and job.tries == 1


def test_results_list_problems_in_the_assignments_order_not_the_order_saved(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="p1 p2 t1").json()["id"]
    broker.sent.reverse()  # the training job finishes first: t1 is saved before p1
    assert grade_all(ctx, broker) == ["part-done", "graded"]
    with ctx.sessions() as s:
        saved = s.scalars(select(ProblemResult.problem_id).order_by(ProblemResult.id)).all()
    assert saved[0] == "t1"
    for who in ("alice", "inst_a"):
        res = client.get(f"/api/v1/submissions/{sid}", headers=world.h(who)).json()
        assert [p["id"] for p in res["problems"]] == ["p1", "p2", "m1", "t1"]
    st = client.get(f"/api/v1/assignments/{world.ids['a1']}/statistics",
                    headers=world.h("inst_a")).json()
    assert [p["id"] for p in st["problems"]] == ["p1", "p2", "m1", "t1"]


def _parts(broker: RecordingBroker) -> list[tuple[str, str]]:
    return sorted((q.split(".")[-1], p["part"]) for q, p in broker.sent)


def _set_training_time(ctx: Context, seconds: float) -> None:
    with ctx.sessions() as s, s.begin():
        for r in s.scalars(select(ProblemResult).where(ProblemResult.problem_id == "t1")):
            r.duration_s = seconds


def test_short_training_is_graded_in_the_same_job_once_it_has_been_measured(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    """A second job would load the submission a second time: not worth it for a short run."""
    upload(client, world, "alice", content="p1 p2 t1")
    assert _parts(broker) == [("grading", "quick"), ("training", "training")]  # unknown: split
    grade_all(ctx, broker)
    _set_training_time(ctx, 1.5)

    calls = ctx.grader.calls  # type: ignore[attr-defined]
    sid = upload(client, world, "bob", content="p1 p2 t1").json()["id"]
    assert _parts(broker) == [("grading", "all")]
    assert grade_all(ctx, broker) == ["graded"]
    assert ctx.grader.calls == calls + 1  # type: ignore[attr-defined]  # one load
    res = client.get(f"/api/v1/submissions/{sid}", headers=world.h("bob")).json()
    assert [(p["id"], p["status"]) for p in res["problems"]] == [
        ("p1", "passed"), ("p2", "partial"), ("m1", "manual"), ("t1", "passed")]


def test_long_training_keeps_a_job_of_its_own(client: TestClient, world: World, ctx: Context,
                                              broker: RecordingBroker) -> None:
    upload(client, world, "alice", content="p1 p2 t1")
    grade_all(ctx, broker)
    _set_training_time(ctx, ctx.settings.split_training_over_s + 1)
    upload(client, world, "bob", content="p1 p2 t1")
    assert _parts(broker) == [("grading", "quick"), ("training", "training")]


def test_split_threshold_zero_always_splits(client: TestClient, world: World, ctx: Context,
                                            broker: RecordingBroker) -> None:
    ctx.settings.split_training_over_s = 0
    upload(client, world, "alice", content="p1 p2 t1")
    grade_all(ctx, broker)
    _set_training_time(ctx, 0.0)
    upload(client, world, "bob", content="p1 p2 t1")
    assert _parts(broker) == [("grading", "quick"), ("training", "training")]
