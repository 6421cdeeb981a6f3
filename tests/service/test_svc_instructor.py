"""Instructors run the course: assignments, roster, gradebook, statistics, regrades, scores."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import RecordingBroker, World, make_world, truncate, upload
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from test_svc_submissions import grade_all

from service.app import create_app
from service.context import Context, build_context
from service.db import migrate
from service.models import GradingRun, Submission, utcnow
from service.services.runner import process_job
from service.settings import Settings


def test_course_creation_makes_the_creator_its_instructor(client: TestClient,
                                                          world: World) -> None:
    r = client.post("/api/v1/courses", headers=world.h("inst_b"),
                    json={"code": "DL24", "title": "Deep learning", "timezone": "Asia/Tokyo"})
    assert r.status_code == 201 and r.json()["my_role"] == "instructor"
    mine = client.get("/api/v1/courses", headers=world.h("inst_b")).json()
    assert {c["code"] for c in mine} == {"COURSE_B", "DL24"}
    bad = client.post("/api/v1/courses", headers=world.h("inst_b"),
                      json={"code": "X", "title": "x", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "unknown time zone" in bad.text


def test_assignment_needs_a_known_grader_and_shows_course_time(client: TestClient,
                                                               world: World) -> None:
    base = {"title": "A2", "opens_at": "2030-01-01T09:00:00", "due_at": "2030-02-01T23:59:00"}
    bad = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                      headers=world.h("inst_a"), json={**base, "slug": "no-such-grader"})
    assert bad.status_code == 422 and "fake-a1" in bad.json()["detail"]
    r = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                    headers=world.h("inst_a"), json={**base, "slug": "fake-a1"})
    assert r.status_code == 201, r.text
    a = r.json()
    # given without a zone: read in Europe/Amsterdam, stored UTC, shown back in Amsterdam time
    assert a["due_at"] == "2030-02-01T23:59:00+01:00"
    assert [p["id"] for p in a["problems"]] == ["p1", "p2", "m1", "t1"]
    assert a["problems"][3]["training"] is True
    order = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                        headers=world.h("inst_a"),
                        json={**base, "slug": "fake-a1", "due_at": "2029-01-01T00:00:00"})
    assert order.status_code == 422


def test_roster_import_creates_accounts_and_enrolls(client: TestClient, world: World) -> None:
    text = ("email,name,role\nnew1@uni.nl,New One,\nalice@example.org,Alice,\n"
            "ta@uni.nl,TA,instructor\nnot-an-email,X,\nx@uni.nl,X,owner\n")
    r = client.post(f"/api/v1/courses/{world.ids['course_a']}/roster", headers=world.h("inst_a"),
                    files={"file": ("roster.csv", text.encode(), "text/csv")})
    body = r.json()
    assert r.status_code == 200, r.text
    assert {c["email"] for c in body["created"]} == {"new1@uni.nl", "ta@uni.nl"}
    assert body["enrolled"] == 2 and body["already_enrolled"] == 1 and len(body["errors"]) == 2
    pw = next(c["initial_password"] for c in body["created"] if c["email"] == "new1@uni.nl")
    tok = client.post("/api/v1/auth/token", data={"username": "new1@uni.nl", "password": pw})
    assert tok.status_code == 200
    roster = client.get(f"/api/v1/courses/{world.ids['course_a']}/roster",
                        headers=world.h("inst_a")).json()
    assert {m["email"]: m["role"] for m in roster}["ta@uni.nl"] == "instructor"
    nohead = client.post(f"/api/v1/courses/{world.ids['course_a']}/roster",
                         headers=world.h("inst_a"),
                         files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv")})
    assert nohead.status_code == 422


def test_roster_with_stray_carriage_returns_or_an_overlong_field_gets_a_reason(
        client: TestClient, world: World) -> None:
    url = f"/api/v1/courses/{world.ids['course_a']}/roster"
    before = client.get(url, headers=world.h("inst_a")).json()

    def post(text: bytes) -> Any:
        return client.post(url, headers=world.h("inst_a"),
                           files={"file": ("roster.csv", text, "text/csv")})

    r = post(b"email,name\rcr1@uni.nl,Carriage\rcr2@uni.nl,Return\r")  # old Mac line ends
    assert r.status_code == 200 and r.json()["enrolled"] == 2, r.text
    huge = post(b"email,name\nok@uni.nl,ok\nbig@uni.nl," + b"x" * 200_000 + b"\n")
    assert huge.status_code == 422 and huge.json()["detail"]["code"] == "bad_roster"
    assert "after line 2: field larger" in huge.json()["detail"]["message"]
    after = {m["email"] for m in client.get(url, headers=world.h("inst_a")).json()}
    assert after == {m["email"] for m in before} | {"cr1@uni.nl", "cr2@uni.nl"}  # not ok@
    # lines longer than the accounts' columns are that line's error, not the whole file's
    r = post(b"email,name\nfine@uni.nl,Fine\n" + b"l" * 400 + b"@uni.nl,Long\n"
             b"named@uni.nl," + b"n" * 300 + b"\n")
    assert r.status_code == 200 and r.json()["enrolled"] == 1, r.text
    assert [e.split(":")[0] for e in r.json()["errors"]] == ["line 3", "line 4"]


def _submit_and_grade(client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
                      who: str, content: str, aid_key: str = "a1",
                      late_by: timedelta | None = None) -> int:
    sid = upload(client, world, who, aid_key, content=content).json()["id"]
    grade_all(ctx, broker)
    if late_by is not None:
        with ctx.sessions() as s:
            due = s.get(Submission, sid).assignment.due_at  # type: ignore[union-attr]
            s.execute(update(Submission).where(Submission.id == sid)
                      .values(submitted_at=due + late_by))
            s.commit()
    return sid


def test_gradebook_counts_best_or_last_with_manual_scores(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    best = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 secret t1")  # 7 of 11
    _submit_and_grade(client, world, ctx, broker, "alice", "p1")  # 2
    _submit_and_grade(client, world, ctx, broker, "bob", "p1 t1")  # 4
    r = client.put(f"/api/v1/submissions/{best}/problems/m1/score", headers=world.h("inst_a"),
                   json={"points": 3, "reason": "clear plot"})
    assert r.status_code == 200
    m1 = next(p for p in r.json()["problems"] if p["id"] == "m1")
    assert m1["score"] == 3 and m1["adjustment"]["kind"] == "manual"
    too_many = client.put(f"/api/v1/submissions/{best}/problems/m1/score",
                          headers=world.h("inst_a"), json={"points": 5, "reason": "x"})
    assert too_many.status_code == 422
    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook",
                    headers=world.h("inst_a")).json()
    rows = {s["email"]: s for s in gb["students"]}
    a1 = str(world.ids["a1"])
    assert rows["alice@example.org"]["assignments"][a1]["score"] == 10
    assert rows["alice@example.org"]["assignments"][a1]["submission_id"] == best
    assert rows["bob@example.org"]["total"] == 4
    with ctx.sessions() as s:  # switch the policy: the last submission counts
        from service.models import Assignment

        s.execute(update(Assignment).where(Assignment.id == world.ids["a1"]).values(counts="last"))
        s.commit()
    csv_text = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook.csv",
                          headers=world.h("inst_a")).text
    table = {r["email"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    # the last scores 2, and the written m1 is the student's whichever submission counts
    assert table["alice@example.org"]["a1"] == "5" and table["bob@example.org"]["total"] == "4"


def test_override_replaces_an_autograded_score_with_who_and_why(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = _submit_and_grade(client, world, ctx, broker, "alice", "p2")
    client.put(f"/api/v1/submissions/{sid}/problems/p1/score", headers=world.h("inst_a"),
               json={"points": 2, "reason": "named the file wrongly; logic is right"})
    res = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    p1 = next(p for p in res["problems"] if p["id"] == "p1")
    assert p1["score"] == 2 and p1["autograded_score"] == 0
    assert p1["adjustment"]["kind"] == "override" and p1["adjustment"]["by"] == world.ids["inst_a"]
    assert "logic is right" in p1["adjustment"]["reason"]


def test_late_penalty_counts_started_days_and_late_day_budget(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    now = utcnow()
    aid = world.add_assignment("late", opens_at=now - timedelta(days=10), due_at=now
                               + timedelta(days=1), late_penalty_per_day=0.25,
                               last_accepted_at=now + timedelta(days=9))
    assert aid
    _submit_and_grade(client, world, ctx, broker, "alice", "p1 t1", "late",
                      late_by=timedelta(hours=24, seconds=1))  # 4 points, 2 started days late
    _submit_and_grade(client, world, ctx, broker, "bob", "p1 t1", "late",
                      late_by=timedelta(seconds=1))  # 1 day late
    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook",
                    headers=world.h("inst_a")).json()
    cell = {s["email"]: s["assignments"][str(aid)] for s in gb["students"]}
    assert cell["alice@example.org"]["days_late"] == 2 and cell["alice@example.org"]["score"] == 2
    assert cell["bob@example.org"]["score"] == 3
    course = f"/api/v1/courses/{world.ids['course_a']}"
    h = world.h("inst_a")
    assert client.patch(course, headers=h, json={"late_day_budget": 1}).json()[
        "late_day_budget"] == 1

    def scores() -> dict[str, tuple[float, int]]:
        gb = client.get(f"{course}/gradebook", headers=h).json()
        cells = {s["email"]: s["assignments"][str(aid)] for s in gb["students"]}
        return {e: (c["score"], c["late_days_used"]) for e, c in cells.items()}

    assert scores() == {"alice@example.org": (3, 1), "bob@example.org": (4, 1)}
    # one student's own budget overrides the course's; null gives the course's back
    r = client.patch(f"{course}/roster/{world.ids['alice']}", headers=h,
                     json={"late_day_budget": 2})
    assert r.status_code == 200 and r.json()["late_day_budget"] == 2
    client.patch(f"{course}/roster/{world.ids['bob']}", headers=h, json={"late_day_budget": 0})
    assert scores() == {"alice@example.org": (4, 2), "bob@example.org": (3, 0)}
    roster = {m["email"]: m["late_day_budget"] for m in client.get(
        f"{course}/roster", headers=h).json()}
    assert roster["alice@example.org"] == 2 and roster["bob@example.org"] == 0
    client.patch(f"{course}/roster/{world.ids['bob']}", headers=h, json={"late_day_budget": None})
    assert scores()["bob@example.org"] == (4, 1)
    refused = [client.patch(f"{course}/roster/{world.ids['alice']}", headers=h,
                            json={"late_day_budget": -1}),
               client.patch(f"{course}/roster/{world.ids['carol']}", headers=h,
                            json={"late_day_budget": 1}),  # enrolled in course B only
               client.patch(f"{course}/roster/{world.ids['inst_a']}", headers=h,
                            json={"late_day_budget": 1})]
    assert [r.status_code for r in refused] == [422, 404, 422]
    assert "not enrolled" in refused[1].text


def test_archived_course_keeps_its_records_but_takes_no_submissions(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 t1")
    course = f"/api/v1/courses/{world.ids['course_a']}"
    before = client.get(f"{course}/gradebook.csv", headers=world.h("inst_a")).text
    r = client.patch(course, headers=world.h("inst_a"), json={"archived": True})
    assert r.status_code == 200 and r.json()["archived_at"] is not None
    late = upload(client, world, "bob")
    assert late.status_code == 403 and late.json()["detail"]["code"] == "course_archived"
    assert "archived" in late.json()["detail"]["message"]
    new = client.post(f"{course}/assignments", headers=world.h("inst_a"),
                      json={"slug": "fake-a1", "title": "A9", "opens_at": "2030-01-01T00:00:00",
                            "due_at": "2030-02-01T00:00:00"})
    assert new.status_code == 409 and new.json()["detail"]["code"] == "course_archived"
    # gone from the default listing, there on request, and every record still readable
    assert client.get("/api/v1/courses", headers=world.h("alice")).json() == []
    listed = client.get("/api/v1/courses?archived=true", headers=world.h("alice")).json()
    assert [c["code"] for c in listed] == ["COURSE_A"]
    assert client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()[
        "status"] == "graded"
    assert client.get(f"{course}/gradebook.csv", headers=world.h("inst_a")).text == before
    restored = client.patch(course, headers=world.h("inst_a"), json={"archived": False})
    assert restored.json()["archived_at"] is None
    assert upload(client, world, "bob").status_code == 201
    nulls = client.patch(course, headers=world.h("inst_a"), json={"title": None})
    assert nulls.status_code == 422 and "cannot be null" in nulls.text


def test_extension_moves_the_due_date_for_one_student(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    now = utcnow()
    aid = world.add_assignment("ext", opens_at=now - timedelta(days=3),
                               due_at=now - timedelta(hours=1))
    files = [("files", ("s.py", b"p1", "text/plain"))]
    assert client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                       files=files).status_code == 403
    r = client.post(f"/api/v1/assignments/{aid}/extensions", headers=world.h("inst_a"),
                    json={"user_id": world.ids["alice"],
                          "due_at": (now + timedelta(days=2)).isoformat(), "reason": "ill"})
    assert r.status_code == 201
    ok = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                     files=files)
    assert ok.status_code == 201 and ok.json()["days_late"] == 0
    assert client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("bob"),
                       files=files).status_code == 403
    not_student = client.post(f"/api/v1/assignments/{aid}/extensions", headers=world.h("inst_a"),
                              json={"user_id": world.ids["carol"], "due_at": now.isoformat()})
    assert not_student.status_code == 404


def test_regrade_keeps_history_and_tells_the_student_what_changed(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2")
    before = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    ctx.grader.version = "fake-2"  # type: ignore[misc]
    from fakes import PROBLEMS

    PROBLEMS[0] = type(PROBLEMS[0])("p1", 4.0)  # the fixed grader gives p1 more points
    try:
        r = client.post(f"/api/v1/submissions/{sid}/regrade", headers=world.h("inst_a"),
                        json={"reason": "p1 was under-weighted"})
        assert r.status_code == 202
        again = client.post(f"/api/v1/submissions/{sid}/regrade", headers=world.h("inst_a"),
                            json={"reason": "twice"})
        assert again.status_code == 409
        queued = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
        assert queued["status"] == "queued" and queued["score"] == before["score"]
        grade_all(ctx, broker)
    finally:
        PROBLEMS[0] = type(PROBLEMS[0])("p1", 2.0)
        ctx.grader.version = "fake-1"  # type: ignore[misc]
    after = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    assert after["grader_version"] == "fake-2" and after["seed"] == before["seed"]
    (h,) = after["history"]
    assert h["reason"] == "p1 was under-weighted"
    assert h["score_from"] == before["score"] and h["score_to"] == after["score"]
    assert h["changes"][0]["problem"] == "p1" and h["changes"][0]["from"] == 2
    assert h["changes"][0]["to"] == 4


def test_regrade_all_uses_its_own_queue(client: TestClient, world: World, ctx: Context,
                                        broker: RecordingBroker) -> None:
    a = _submit_and_grade(client, world, ctx, broker, "alice", "p1")
    b = _submit_and_grade(client, world, ctx, broker, "bob", "p2")
    busy = upload(client, world, "bob").json()["id"]
    broker.sent.clear()
    r = client.post(f"/api/v1/assignments/{world.ids['a1']}/regrade", headers=world.h("inst_a"),
                    json={"reason": "new tolerance"})
    assert r.json() == {"queued": [a, b], "skipped_in_progress": [busy]}
    assert {q.rsplit(".", 1)[1] for q, _ in broker.sent} == {"regrade"}


def test_statistics_report_distribution_pass_rates_and_time(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 secret t1")
    _submit_and_grade(client, world, ctx, broker, "bob", "p1")
    st = client.get(f"/api/v1/assignments/{world.ids['a1']}/statistics",
                    headers=world.h("inst_a")).json()
    assert st["students"] == 2 and st["score"]["max"] == 7 and st["score"]["min"] == 2
    assert sum(b["count"] for b in st["score"]["histogram"]) == 2
    rates = {p["id"]: p["pass_rate"] for p in st["problems"]}
    assert rates["p1"] == 1.0 and rates["t1"] == 0.5
    checks = {(c["problem"], c["key"]): c["pass_rate"] for c in st["checks"]}
    assert checks[("p2", "p2.secret")] == 0.5
    assert st["median_grading_seconds"] is not None
    assert st["submissions_by_status"] == {"graded": 2}


def test_submission_list_filters(client: TestClient, world: World, ctx: Context,
                                 broker: RecordingBroker) -> None:
    _submit_and_grade(client, world, ctx, broker, "alice", "p1")
    _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2")
    queued = upload(client, world, "bob").json()["id"]
    base = f"/api/v1/assignments/{world.ids['a1']}/submissions"
    h = world.h("inst_a")
    assert len(client.get(base, headers=h).json()) == 3
    assert [s["id"] for s in client.get(base + "?status=queued", headers=h).json()] == [queued]
    only = client.get(f"{base}?user_id={world.ids['alice']}&latest_only=true", headers=h).json()
    assert [s["attempt"] for s in only] == [2]
    assert client.get(base + "?late=true", headers=h).json() == []
    with ctx.sessions() as s:
        assert s.scalars(select(Submission.status).where(Submission.id == queued)).one() == "queued"
    process_job(ctx, queued, "quick")


def test_statistics_give_one_row_per_check_whatever_values_each_run_drew(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    ids = [upload(client, world, who, content=text).json()["id"]
           for who, text in (("alice", "p1 p2"), ("bob", "p2"))]
    with ctx.sessions() as s:  # two runs with their own seeds: the fake names p1's check after it
        for sid, seed in zip(ids, (159, 402), strict=True):
            s.execute(update(GradingRun).where(GradingRun.submission_id == sid).values(seed=seed))
        s.commit()
    grade_all(ctx, broker)
    names = {next(c["name"] for p in client.get(f"/api/v1/submissions/{sid}",
                                                 headers=world.h("inst_a")).json()["problems"]
                  if p["id"] == "p1" for c in p["checks"]) for sid in ids}
    assert names == {"p1.step(0.159)", "p1.step(0.402)"}
    st = client.get(f"/api/v1/assignments/{world.ids['a1']}/statistics",
                    headers=world.h("inst_a")).json()
    p1 = [c for c in st["checks"] if c["problem"] == "p1"]
    assert len(p1) == 1, p1
    assert p1[0]["key"] == "p1.step(#)" and p1[0]["n"] == 2 and p1[0]["pass_rate"] == 0.5


def test_a_student_sees_the_late_penalty_and_the_late_days_left(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    now = utcnow()
    aid = world.add_assignment("late", opens_at=now - timedelta(days=10), due_at=now
                               + timedelta(days=1), late_penalty_per_day=0.25,
                               last_accepted_at=now + timedelta(days=9))
    client.patch(f"/api/v1/courses/{world.ids['course_a']}", headers=world.h("inst_a"),
                 json={"late_day_budget": 1})
    sid = _submit_and_grade(client, world, ctx, broker, "alice", "p1 t1", "late",
                            late_by=timedelta(hours=24, seconds=1))  # 4 points, 2 days late
    h = world.h("alice")
    detail = client.get(f"/api/v1/submissions/{sid}", headers=h).json()
    # one late day spent, the other day costs a quarter: 4 becomes 3
    late = {k: detail[k] for k in ("score", "score_after_penalty", "penalty", "days_late",
                                   "late_days_used", "late_days_left", "counted")}
    assert late == {"score": 4, "score_after_penalty": 3, "penalty": 0.25, "days_late": 2,
                    "late_days_used": 1, "late_days_left": 0, "counted": True}
    (mine,) = client.get(f"/api/v1/assignments/{aid}/my-submissions", headers=h).json()
    assert {k: mine[k] for k in late} == late
    view = client.get(f"/api/v1/assignments/{aid}", headers=h).json()
    assert view["late_days_used"] == 1 and view["late_days_left"] == 0
    listed = {a["id"]: a for a in client.get(
        f"/api/v1/courses/{world.ids['course_a']}/assignments", headers=h).json()}
    assert listed[world.ids["a1"]]["late_days_left"] == 0
    assert listed[world.ids["a1"]]["late_days_used"] == 0
    bob = client.get(f"/api/v1/assignments/{aid}", headers=world.h("bob")).json()
    assert bob["late_days_left"] == 1
    staff = client.get(f"/api/v1/assignments/{aid}", headers=world.h("inst_a")).json()
    assert staff["late_days_left"] is None


def _a1(client: TestClient, world: World, who: str) -> dict[str, Any]:
    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook",
                    headers=world.h("inst_a")).json()
    row = next(s for s in gb["students"] if s["email"] == f"{who}@example.org")
    return row["assignments"][str(world.ids["a1"])]


def test_a_written_grade_stays_with_the_student_after_a_later_upload(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    first = _submit_and_grade(client, world, ctx, broker, "alice", "p1")  # 2
    r = client.put(f"/api/v1/submissions/{first}/problems/m1/score", headers=world.h("inst_a"),
                   json={"points": 3, "reason": "clear plot"})
    assert r.status_code == 200
    later = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 secret t1")  # 7
    cell = _a1(client, world, "alice")
    assert cell["submission_id"] == later and cell["score"] == 10  # 7 and the written 3
    m1 = next(p for p in client.get(f"/api/v1/submissions/{later}", headers=world.h("alice"))
              .json()["problems"] if p["id"] == "m1")
    assert m1["score"] == 3 and m1["adjustment"]["reason"] == "clear plot"
    # an override judges one submission's code: it stays with that submission
    client.put(f"/api/v1/submissions/{first}/problems/p2/score", headers=world.h("inst_a"),
               json={"points": 3, "reason": "p2 right, file misnamed"})
    p2 = next(p for p in client.get(f"/api/v1/submissions/{later}", headers=world.h("alice"))
              .json()["problems"] if p["id"] == "p2")
    assert p2["adjustment"] is None
    # bob's submissions do not show alice's grade
    bob = _submit_and_grade(client, world, ctx, broker, "bob", "p1")
    m1 = next(p for p in client.get(f"/api/v1/submissions/{bob}", headers=world.h("bob"))
              .json()["problems"] if p["id"] == "m1")
    assert m1["score"] == 0 and m1["adjustment"] is None


def test_a_written_grade_survives_switching_to_last_submission_counts(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    best = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 secret t1")  # 7
    client.put(f"/api/v1/submissions/{best}/problems/m1/score", headers=world.h("inst_a"),
               json={"points": 3, "reason": "clear plot"})
    last = _submit_and_grade(client, world, ctx, broker, "alice", "p1")  # 2
    assert _a1(client, world, "alice")["score"] == 10
    r = client.patch(f"/api/v1/assignments/{world.ids['a1']}", headers=world.h("inst_a"),
                     json={"counts": "last"})
    assert r.status_code == 200
    cell = _a1(client, world, "alice")
    assert cell["submission_id"] == last and cell["score"] == 5  # 2 and the written 3


def test_a_student_who_handed_in_no_code_gets_a_written_score_the_gradebook_counts(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    now = utcnow()  # past due with a steep penalty: a score on paper is not late
    aid = world.add_assignment("w1", opens_at=now - timedelta(days=9),
                               due_at=now - timedelta(days=3), late_penalty_per_day=0.25,
                               last_accepted_at=now + timedelta(days=1))
    best = _submit_and_grade(client, world, ctx, broker, "alice", "p1 p2 secret t1", "w1",
                             late_by=timedelta(days=1, hours=1))  # 7, 2 days late: -50%
    url = f"/api/v1/assignments/{aid}/students/{world.ids['bob']}/problems/m1/score"
    h = world.h("inst_a")
    r = client.put(url, headers=h, json={"points": 3, "reason": "proof on paper"})
    assert r.status_code == 200, r.text
    assert (r.json()["points"], r.json()["max_points"], r.json()["submission_id"]) == (3, 4, None)
    refused = {
        "too many": client.put(url, headers=h, json={"points": 5, "reason": "x"}),
        "no reason": client.put(url, headers=h, json={"points": 1, "reason": ""}),
        "autograded": client.put(url.replace("/m1/", "/p1/"), headers=h,
                                 json={"points": 1, "reason": "x"}),
        "no such problem": client.put(url.replace("/m1/", "/m9/"), headers=h,
                                      json={"points": 1, "reason": "x"}),
        "not a student here": client.put(url.replace(f"/{world.ids['bob']}/",
                                                     f"/{world.ids['carol']}/"),
                                         headers=h, json={"points": 1, "reason": "x"}),
    }
    assert {k: v.status_code for k, v in refused.items()} == {
        "too many": 422, "no reason": 422, "autograded": 422, "no such problem": 404,
        "not a student here": 404}
    assert "m1 is worth at most 4 points" in refused["too many"].text
    assert "override it on one of the student's submissions" in refused["autograded"].text
    for who in ("bob", "inst_b"):
        assert client.put(url, headers=world.h(who),
                          json={"points": 4, "reason": "x"}).status_code == 403
        assert client.delete(url, headers=world.h(who)).status_code == 403

    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook", headers=h).json()
    rows = {s["email"]: s for s in gb["students"]}
    bob = rows["bob@example.org"]["assignments"][str(aid)]
    assert (bob["submission_id"], bob["score"], bob["max_score"]) == (None, 3, 11)
    assert (bob["days_late"], bob["penalty"]) == (0, 0)
    assert rows["bob@example.org"]["total"] == 3
    alice = rows["alice@example.org"]["assignments"][str(aid)]
    assert (alice["submission_id"], alice["score"], alice["penalty"]) == (best, 3.5, 0.5)
    got = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook.csv", headers=h).text
    line = next(r for r in csv.DictReader(io.StringIO(got)) if r["email"] == "bob@example.org")
    assert (line["w1"], line["w1: m1"], line["w1: p1"], line["w1: penalty"],
            line["total"]) == ("3", "3", "", "0", "3")
    mine = client.get(f"/api/v1/assignments/{aid}", headers=world.h("bob")).json()
    assert [(w["problem_id"], w["points"], w["reason"]) for w in mine["my_written_scores"]] == [
        ("m1", 3, "proof on paper")]

    assert client.delete(url, headers=h).status_code == 204
    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook", headers=h).json()
    bob_row = next(s for s in gb["students"] if s["email"] == "bob@example.org")
    assert bob_row["assignments"][str(aid)]["score"] is None and bob_row["total"] == 0
    assert client.get(f"/api/v1/assignments/{aid}", headers=world.h("bob")
                      ).json()["my_written_scores"] == []


def test_a_written_score_given_without_a_submission_shows_on_a_later_one(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    client.put(f"/api/v1/assignments/{world.ids['a1']}/students/{world.ids['bob']}/problems/"
               "m1/score", headers=world.h("inst_a"), json={"points": 2, "reason": "half"})
    later = _submit_and_grade(client, world, ctx, broker, "bob", "p1")  # 2
    m1 = next(p for p in client.get(f"/api/v1/submissions/{later}", headers=world.h("bob"))
              .json()["problems"] if p["id"] == "m1")
    assert m1["score"] == 2 and m1["adjustment"]["reason"] == "half"
    cell = _a1(client, world, "bob")
    assert cell["submission_id"] == later and cell["score"] == 4


def test_a_written_problems_pass_rate_counts_a_student_scored_only_on_paper(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    _submit_and_grade(client, world, ctx, broker, "alice", "p1")  # m1 not scored yet
    h = world.h("inst_a")
    r = client.put(f"/api/v1/assignments/{world.ids['a1']}/students/{world.ids['bob']}/"
                   "problems/m1/score", headers=h, json={"points": 4, "reason": "on paper"})
    assert r.status_code == 200, r.text
    st = client.get(f"/api/v1/assignments/{world.ids['a1']}/statistics", headers=h).json()
    rates = {p["id"]: (p["pass_rate"], p["n"], p["unscored"]) for p in st["problems"]}
    assert rates["m1"] == (1.0, 1, 1)  # bob's full 4 on paper; alice's not scored yet
    assert rates["p1"] == (1.0, 1, 0)  # autograded problems count submissions only
    assert st["students"] == 1 and st["score"]["max"] == 2


def test_extensions_are_listed_and_revoked(client: TestClient, world: World) -> None:
    now = utcnow()
    aid = world.add_assignment("ext", opens_at=now - timedelta(days=3),
                               due_at=now - timedelta(hours=1))
    url, h = f"/api/v1/assignments/{aid}/extensions", world.h("inst_a")
    files = [("files", ("s.py", b"p1", "text/plain"))]
    client.post(url, headers=h, json={"user_id": world.ids["alice"], "reason": "ill",
                                      "due_at": (now + timedelta(days=2)).isoformat()})
    (ext,) = client.get(url, headers=h).json()
    assert ext["email"] == "alice@example.org" and ext["reason"] == "ill"
    assert ext["due_at"].endswith(("+01:00", "+02:00"))  # shown in Amsterdam time
    assert client.get(url, headers=world.h("alice")).status_code == 403
    assert client.delete(f"{url}/{world.ids['alice']}", headers=world.h("alice")
                         ).status_code == 403
    assert client.delete(f"{url}/{world.ids['alice']}", headers=h).status_code == 204
    assert client.get(url, headers=h).json() == []
    closed = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                         files=files)
    assert closed.status_code == 403  # the assignment's own due date again
    again = client.delete(f"{url}/{world.ids['alice']}", headers=h)
    assert again.status_code == 404 and again.json()["detail"]["code"] == "no_extension"


def test_an_instructor_enrolls_one_student_and_drops_them(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    course, h = f"/api/v1/courses/{world.ids['course_a']}", world.h("inst_a")
    r = client.post(f"{course}/enrollments", headers=h,
                    json={"email": "New.Student@Uni.nl", "name": "New Student"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["member"]["email"] == "new.student@uni.nl" and body["member"]["role"] == "student"
    tok = client.post("/api/v1/auth/token", data={"username": "new.student@uni.nl",
                                                  "password": body["initial_password"]})
    assert tok.status_code == 200
    assert client.get("/api/v1/users/me", headers={
        "Authorization": f"Bearer {tok.json()['access_token']}"}).json()["role"] == "student"
    twice = client.post(f"{course}/enrollments", headers=h, json={"email": "new.student@uni.nl"})
    assert twice.status_code == 409
    existing = client.post(f"{course}/enrollments", headers=h,
                           json={"email": "carol@example.org", "role": "instructor"})
    assert existing.status_code == 201 and existing.json()["initial_password"] is None
    assert client.post(f"{course}/enrollments", headers=world.h("alice"),
                       json={"email": "x@uni.nl"}).status_code == 403
    # dropping: access and gradebook row gone, records kept and back on enrolling again
    sid = _submit_and_grade(client, world, ctx, broker, "bob", "p1")
    assert client.delete(f"{course}/roster/{world.ids['bob']}", headers=world.h("alice")
                         ).status_code == 403
    assert client.delete(f"{course}/roster/{world.ids['bob']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/submissions/{sid}", headers=world.h("bob")).status_code == 403
    emails = {s["email"] for s in client.get(f"{course}/gradebook", headers=h).json()["students"]}
    assert "bob@example.org" not in emails
    assert client.delete(f"{course}/roster/{world.ids['bob']}", headers=h).status_code == 404
    me = client.delete(f"{course}/roster/{world.ids['inst_a']}", headers=h)
    assert me.status_code == 409 and me.json()["detail"]["code"] == "drop_self"
    client.post(f"{course}/enrollments", headers=h, json={"email": "bob@example.org"})
    assert client.get(f"/api/v1/submissions/{sid}", headers=world.h("bob")).json()[
        "status"] == "graded"


def test_submission_lists_come_in_pages_with_a_total(
        client: TestClient, world: World, ctx: Context) -> None:
    with ctx.sessions() as s:  # no interval or limit: five uploads each
        for who in ("alice", "bob"):
            for attempt in range(1, 6):
                s.add(Submission(assignment_id=world.ids["a1"], user_id=world.ids[who],
                                 attempt=attempt, status="queued", storage_key="k"))
        s.commit()
    base, h = f"/api/v1/assignments/{world.ids['a1']}/submissions", world.h("inst_a")
    first = client.get(f"{base}?limit=4", headers=h)
    assert first.headers["X-Total-Count"] == "10" and len(first.json()) == 4
    rest = client.get(f"{base}?limit=4&offset=8", headers=h)
    assert [(s["email"], s["attempt"]) for s in rest.json()] == [
        ("bob@example.org", 4), ("bob@example.org", 5)]
    pages = [client.get(f"{base}?limit=3&offset={o}", headers=h).json() for o in range(0, 10, 3)]
    assert len({s["id"] for p in pages for s in p}) == 10
    latest = client.get(f"{base}?latest_only=true&limit=1", headers=h)
    assert latest.headers["X-Total-Count"] == "2" and latest.json()[0]["attempt"] == 5
    assert client.get(f"{base}?limit=0", headers=h).status_code == 422
    mine = client.get(f"/api/v1/assignments/{world.ids['a1']}/my-submissions?limit=2&offset=1",
                      headers=world.h("alice"))
    assert mine.headers["X-Total-Count"] == "5"
    assert [s["attempt"] for s in mine.json()] == [2, 3]



@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_settings_past_any_sensible_bound_are_refused_and_uploads_keep_working(
        database: str, settings: Settings, broker: RecordingBroker, tmp_path: Path) -> None:
    """On the embedded SQLite, an interval of 10^12 s used to be stored, then every
    student's second upload was a 500 (the date overflowed), and a number past 2^63 was a
    500 at once. PostgreSQL's integer columns refused most of these already."""
    if database == "sqlite":
        settings = settings.model_copy(
            update={"database_url": f"sqlite:///{tmp_path / 'embedded.db'}"})
        migrate(settings.db_url)
    ctx = build_context(settings, broker=broker)
    try:
        world = make_world(ctx)
        with TestClient(create_app(settings, context=ctx)) as client:
            url, h = f"/api/v1/assignments/{world.ids['a1']}", world.h("inst_a")
            for body in ({"min_interval_seconds": 10**12}, {"max_submissions": 2**63},
                         {"title": "x" * 250}):
                r = client.patch(url, headers=h, json=body)
                assert r.status_code == 422, (body, r.text)
            r = client.patch(f"/api/v1/courses/{world.ids['course_a']}", headers=h,
                             json={"late_day_budget": 2**63})
            assert r.status_code == 422, r.text
            r = client.post(f"{url}/extensions", headers=h,
                            json={"user_id": 2**63, "due_at": "2030-01-01T00:00:00"})
            assert r.status_code == 422, r.text
            assert upload(client, world, "alice").status_code == 201
            assert upload(client, world, "alice").status_code == 201
    finally:
        if database == "postgresql":
            truncate(ctx)
        ctx.close()
