"""Every endpoint refuses the wrong role and the wrong course.

The world has course A (instructor inst_a, students alice and bob) and
course B (instructor inst_b, student carol); alice has a graded submission.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient

from service.context import Context
from service.services.runner import process_job

EVERYONE = ("anon", "alice", "bob", "carol", "inst_a", "inst_b", "admin")
MEMBERS_A = {"alice", "bob", "inst_a", "admin"}
STAFF_A = {"inst_a", "admin"}
OWNER = {"alice", "inst_a", "admin"}
DUE = "2030-01-01T12:00:00"

# name, method, path, request kwargs, who may
ENDPOINTS: list[tuple[str, str, str, dict[str, Any], set[str]]] = [
    ("me", "GET", "/users/me", {}, set(EVERYONE) - {"anon"}),
    ("create user", "POST", "/users", {"json": {"email": "x{n}@e.org", "password": "pw123456"}},
     {"admin"}),
    ("create course", "POST", "/courses", {"json": {"code": "C{n}", "title": "t"}},
     {"inst_a", "inst_b", "admin"}),
    ("course", "GET", "/courses/{course_a}", {}, MEMBERS_A),
    ("update course", "PATCH", "/courses/{course_a}", {"json": {"late_day_budget": 3}},
     STAFF_A),
    ("roster", "GET", "/courses/{course_a}/roster", {}, STAFF_A),
    ("late days of one student", "PATCH", "/courses/{course_a}/roster/{alice}",
     {"json": {"late_day_budget": 1}}, STAFF_A),
    ("import roster", "POST", "/courses/{course_a}/roster",
     {"files": {"file": ("r.csv", b"email,name\nnew{n}@e.org,New\n", "text/csv")}}, STAFF_A),
    ("gradebook", "GET", "/courses/{course_a}/gradebook", {}, STAFF_A),
    ("gradebook csv", "GET", "/courses/{course_a}/gradebook.csv", {}, STAFF_A),
    ("create assignment", "POST", "/courses/{course_a}/assignments",
     {"json": {"slug": "fake-a1", "title": "x", "opens_at": "2020-01-01T00:00:00",
               "due_at": DUE}}, STAFF_A),
    ("list assignments", "GET", "/courses/{course_a}/assignments", {}, MEMBERS_A),
    ("assignment", "GET", "/assignments/{a1}", {}, MEMBERS_A),
    ("update assignment", "PATCH", "/assignments/{a1}", {"json": {"title": "renamed"}}, STAFF_A),
    ("statistics", "GET", "/assignments/{a1}/statistics", {}, STAFF_A),
    ("extension", "POST", "/assignments/{a1}/extensions",
     {"json": {"user_id": "{alice}", "due_at": DUE, "reason": "ill"}}, STAFF_A),
    ("extra attempts", "POST", "/assignments/{a1}/extra-attempts",
     {"json": {"user_id": "{alice}", "count": 1}}, STAFF_A),
    ("list extra attempts", "GET", "/assignments/{a1}/extra-attempts", {}, STAFF_A),
    ("regrade all", "POST", "/assignments/{a1}/regrade", {"json": {"reason": "fix"}}, STAFF_A),
    ("submissions", "GET", "/assignments/{a1}/submissions", {}, STAFF_A),
    ("my submissions", "GET", "/assignments/{a1}/my-submissions", {}, MEMBERS_A),
    ("upload", "POST", "/assignments/{a1}/submissions",
     {"files": {"files": ("s.py", b"p1", "text/plain")}}, {"alice", "bob"}),
    ("submission", "GET", "/submissions/{sub}", {}, OWNER),
    ("wait", "GET", "/submissions/{sub}/wait?timeout=0", {}, OWNER),
    ("events", "GET", "/submissions/{sub}/events", {}, OWNER),
    ("file", "GET", "/submissions/{sub}/files/{file}", {}, OWNER),
    ("regrade one", "POST", "/submissions/{sub}/regrade", {"json": {"reason": "fix"}}, STAFF_A),
    ("score", "PUT", "/submissions/{sub}/problems/m1/score",
     {"json": {"points": 3, "reason": "nice plot"}}, STAFF_A),
    ("written score", "PUT", "/assignments/{a1}/students/{bob}/problems/m1/score",
     {"json": {"points": 3, "reason": "on paper"}}, STAFF_A),
    ("clear written score", "DELETE", "/assignments/{a1}/students/{bob}/problems/m1/score", {},
     STAFF_A),
    ("api tokens", "GET", "/auth/api-tokens", {}, set(EVERYONE) - {"anon"}),
]


def _fill(value: Any, ids: dict[str, int], n: int) -> Any:
    if isinstance(value, str):
        out = value.format(n=n, **ids)
        return int(out) if value.startswith("{") and out.isdigit() else out
    if isinstance(value, dict):
        return {k: _fill(v, ids, n) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name,method,path,kwargs,allowed", ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_endpoint_refuses_wrong_role_and_course(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker, name: str,
        method: str, path: str, kwargs: dict[str, Any], allowed: set[str]) -> None:
    sub = upload(client, world, "alice").json()
    for _, p in list(broker.sent):
        process_job(ctx, p["submission_id"], p["part"])
    broker.sent.clear()
    ids = {**world.ids, "sub": sub["id"], "file": sub["files"][0]["id"]}
    for n, who in enumerate(EVERYONE):
        headers = {} if who == "anon" else world.h(who)
        kw = {k: v if k == "files" else _fill(v, ids, n) for k, v in kwargs.items()}
        r = client.request(method, "/api/v1" + path.format(**ids), headers=headers, **kw)
        if who in allowed:
            assert r.status_code not in (401, 403) and r.status_code < 500, (who, r.text)
        else:
            assert r.status_code == (401 if who == "anon" else 403), (who, r.status_code, r.text)
