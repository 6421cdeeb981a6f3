"""Requests at the edges: racing clicks, odd dates, odd names, and scores that must agree.

Each test here is a bug a review found by sending exactly these requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from test_svc_submissions import grade_all

from service.app import create_app
from service.context import Context
from service.models import Assignment, GradingRun, Submission, utcnow
from service.settings import Settings


def _at_once(app: Any, n: int, request: Callable[[TestClient], Any]) -> list[int]:
    """``n`` clients send ``request`` at the same moment; their statuses, sorted."""
    barrier, statuses = threading.Barrier(n), []

    def go() -> None:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            statuses.append(request(c).status_code)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_a_double_clicked_regrade_grades_once(world: World, ctx: Context, settings: Settings,
                                              broker: RecordingBroker) -> None:
    app = create_app(settings, context=ctx)
    with TestClient(app) as c:
        sid = upload(c, world, "alice", content="p1 p2").json()["id"]
    grade_all(ctx, broker)
    for _ in range(3):
        one = _at_once(app, 2, lambda c: c.post(f"/api/v1/submissions/{sid}/regrade",
                                                headers=world.h("inst_a"), json={"reason": "x"}))
        assert one == [202, 409]
        grade_all(ctx, broker)
        every = _at_once(app, 2, lambda c: c.post(
            f"/api/v1/assignments/{world.ids['a1']}/regrade", headers=world.h("inst_a"),
            json={"reason": "fix"}))
        assert every == [202, 202]  # the second finds it queued and skips it
        grade_all(ctx, broker)
    with ctx.sessions() as s:
        numbers = s.scalars(select(GradingRun.number).where(GradingRun.submission_id == sid)
                            .order_by(GradingRun.number)).all()
    assert numbers == [1, 2, 3, 4, 5, 6, 7]  # one run per round and click group, never two


def test_racing_creations_get_409_not_500(world: World, ctx: Context,
                                          settings: Settings) -> None:
    app = create_app(settings, context=ctx)
    for i in range(4):
        statuses = _at_once(app, 3, lambda c, i=i: c.post(
            "/api/v1/courses", headers=world.h("inst_a"), json={"code": f"RACE{i}", "title": "x"}))
        assert statuses == [201, 409, 409]
        key = f"racer{i}"
        world.add_user(key)
        world.enroll(key, "course_a")
        statuses = _at_once(app, 3, lambda c, key=key: c.post(
            f"/api/v1/assignments/{world.ids['a1']}/extensions", headers=world.h("inst_a"),
            json={"user_id": world.ids[key], "due_at": "2031-01-01T00:00:00"}))
        assert 500 not in statuses and 201 in statuses


def test_dates_far_from_now_are_refused_and_leave_the_assignment_readable(
        client: TestClient, world: World) -> None:
    base = {"title": "X", "slug": "fake-a1", "opens_at": "2030-01-01T00:00:00"}
    course = f"/api/v1/courses/{world.ids['course_a']}/assignments"
    h = world.h("inst_a")
    refused = [
        client.post(course, headers=h, json={**base, "due_at": "9999-12-31T23:30:00Z"}),
        client.post(course, headers=h, json={**base, "opens_at": "0001-01-01T00:00:00",
                                             "due_at": "2030-01-02T00:00:00"}),
        client.patch(f"/api/v1/assignments/{world.ids['a1']}", headers=h,
                     json={"last_accepted_at": "9999-12-31T23:59:00Z"}),
        client.post(f"/api/v1/assignments/{world.ids['a1']}/extensions", headers=h,
                    json={"user_id": world.ids["alice"], "due_at": "9999-12-25T00:00:00Z"}),
    ]
    assert [r.status_code for r in refused] == [422] * 4
    assert "outside 1970-2199" in refused[0].text
    assert client.get(f"/api/v1/assignments/{world.ids['a1']}",
                      headers=world.h("alice")).status_code == 200


def test_a_deadline_the_clocks_skip_is_refused(client: TestClient, world: World) -> None:
    course = f"/api/v1/courses/{world.ids['course_a']}/assignments"  # Europe/Amsterdam
    body = {"title": "x", "slug": "fake-a1", "opens_at": "2030-03-01T00:00:00"}
    gap = client.post(course, headers=world.h("inst_a"),
                      json={**body, "due_at": "2030-03-31T02:30:00"})
    assert gap.status_code == 422 and "does not exist in Europe/Amsterdam" in gap.text
    fine = client.post(course, headers=world.h("inst_a"),
                       json={**body, "due_at": "2030-03-31T03:30:00"})
    assert fine.status_code == 201 and fine.json()["due_at"] == "2030-03-31T03:30:00+02:00"


def test_late_days_are_kept_for_assignments_where_they_count(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    now = utcnow()
    with ctx.sessions() as s:  # a1: no late penalty; a2: half the score per day
        s.execute(update(Assignment).where(Assignment.id == world.ids["a1"]).values(
            due_at=now + timedelta(hours=1), last_accepted_at=now + timedelta(days=5),
            late_penalty_per_day=0.0))
        s.commit()
    world.add_assignment("a2", due_at=now + timedelta(days=2),
                         last_accepted_at=now + timedelta(days=9), late_penalty_per_day=0.5)
    course = f"/api/v1/courses/{world.ids['course_a']}"
    client.patch(course, headers=world.h("inst_a"), json={"late_day_budget": 1})
    for key in ("a1", "a2"):
        sid = upload(client, world, "alice", key, content="p1 p2 secret t1").json()["id"]
        grade_all(ctx, broker)
        with ctx.sessions() as s:
            sub = s.get(Submission, sid)
            assert sub is not None
            s.execute(update(Submission).where(Submission.id == sid).values(
                submitted_at=sub.assignment.due_at + timedelta(hours=2)))
            s.commit()
    gb = client.get(f"{course}/gradebook", headers=world.h("inst_a")).json()
    row = next(s for s in gb["students"] if s["email"] == "alice@example.org")
    a1, a2 = (row["assignments"][str(world.ids[k])] for k in ("a1", "a2"))
    assert (a1["late_days_used"], a1["penalty"]) == (0, 0)
    assert (a2["late_days_used"], a2["penalty"], a2["score"]) == (1, 0, a2["raw"])


def test_lists_show_the_score_the_submission_and_gradebook_show(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="p2").json()["id"]
    grade_all(ctx, broker)
    h = world.h("inst_a")
    client.put(f"/api/v1/submissions/{sid}/problems/p1/score", headers=h,
               json={"points": 2, "reason": "right idea"})
    client.put(f"/api/v1/submissions/{sid}/problems/m1/score", headers=h,
               json={"points": 4, "reason": "clear plot"})
    detail = client.get(f"/api/v1/submissions/{sid}", headers=world.h("alice")).json()
    mine = client.get(f"/api/v1/assignments/{world.ids['a1']}/my-submissions",
                      headers=world.h("alice")).json()
    staff = client.get(f"/api/v1/assignments/{world.ids['a1']}/submissions", headers=h).json()
    gb = client.get(f"/api/v1/courses/{world.ids['course_a']}/gradebook", headers=h).json()
    cell = next(s for s in gb["students"] if s["email"] == "alice@example.org")[
        "assignments"][str(world.ids["a1"])]
    assert detail["score"] == 2 + 1.5 + 4 and detail["max_score"] == 11
    assert [(x["score"], x["max_score"]) for x in mine + staff] == [(7.5, 11)] * 2
    assert cell["score"] == 7.5


def test_gradebook_csv_of_a_course_with_a_non_latin_code(client: TestClient,
                                                         world: World) -> None:
    r = client.post("/api/v1/courses", headers=world.h("inst_a"),
                    json={"code": "Глубокое-2025", "title": "DL"})
    csv = client.get(f"/api/v1/courses/{r.json()['id']}/gradebook.csv",
                     headers=world.h("inst_a"))
    assert csv.status_code == 200 and csv.text.startswith("email,name")
    disposition = csv.headers["content-disposition"]
    assert "filename*=UTF-8''gradebook-%D0%93" in disposition
    assert 'filename="gradebook-________-2025.csv"' in disposition


def test_run_numbers_are_unique_per_submission(world: World, ctx: Context,
                                               client: TestClient,
                                               broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="p1").json()["id"]
    grade_all(ctx, broker)
    with ctx.sessions() as s:
        s.add(GradingRun(submission_id=sid, number=1, seed=1))
        with pytest.raises(IntegrityError, match="uq_grading_runs_submission_id"):
            s.commit()
        s.rollback()
        assert s.scalar(select(func.count()).select_from(GradingRun)
                        .where(GradingRun.submission_id == sid)) == 1
