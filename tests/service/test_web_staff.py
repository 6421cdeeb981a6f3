"""The course staff's pages through the test client: what they show, what their forms do,
and whom they refuse."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from test_svc_submissions import grade_all
from test_web_student import logged_in
from webtools import page_csrf

from service.context import Context
from service.models import (
    Assignment,
    CheckResult,
    Course,
    Enrollment,
    Extension,
    ExtraAttempts,
    ScoreAdjustment,
    Submission,
    User,
    utcnow,
)
from service.web.flash import FLASH_COOKIE


def flash_of(page: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)" role="status">([^<]*)</p>', page)
    return f"{found.group(1)}: {html.unescape(found.group(2))}" if found else ""


def post(client: TestClient, path: str, data: dict[str, str], token: str | None = None,
         **kw):
    """A staff form as a browser sends it, with the session's CSRF token unless given."""
    token = page_csrf(client) if token is None else token
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False, **kw)


def followed(client: TestClient, r) -> str:
    assert r.status_code == 303, r.text
    return client.get(r.headers["location"]).text


def graded(client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
           who: str = "alice", content: str = "p1 p2 t1") -> int:
    sid = upload(client, world, who, content=content).json()["id"]
    grade_all(ctx, broker)
    return sid


ASSIGNMENT = {"slug": "fake-a1", "title": "Week 2", "opens_at": "2026-03-02T09:00",
              "due_at": "2026-03-09T23:59", "last_accepted_at": "", "late_penalty_percent": "10",
              "max_submissions": "3", "min_interval_seconds": "", "counts": "best",
              "visible": "on"}


def test_an_instructor_creates_an_assignment_and_edits_its_rules(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    course = world.ids["course_a"]
    r = post(client, f"/courses/{course}/manage/assignments", ASSIGNMENT)
    assert r.status_code == 303 and r.headers["location"].endswith("/manage")
    page = client.get(r.headers["location"]).text
    assert flash_of(page) == "saved: Week 2 created."
    assert 'value="2026-03-09T23:59"' in page  # shown back in the course's zone
    aid = int(r.headers["location"].split("/")[2])
    with ctx.sessions() as s:
        a = s.get(Assignment, aid)
        assert a.due_at.isoformat() == "2026-03-09T22:59:00+00:00"  # Amsterdam, winter time
        assert (a.late_penalty_per_day, a.max_submissions, a.show_hidden_details) == (0.1, 3,
                                                                                      False)
    edit = dict(ASSIGNMENT, max_submissions="", counts="last", show_hidden_details="on",
                late_penalty_percent="25")
    page = followed(client, post(client, f"/assignments/{aid}/manage/settings", edit))
    assert flash_of(page) == "saved: Assignment saved."
    with ctx.sessions() as s:
        a = s.get(Assignment, aid)
        assert (a.late_penalty_per_day, a.max_submissions, a.counts, a.show_hidden_details) == (
            0.25, None, "last", True)
    bad = followed(client, post(client, f"/assignments/{aid}/manage/settings",
                                dict(edit, due_at="2026-03-01T10:00")))
    assert flash_of(bad) == "refused: due_at is before opens_at"
    typo = followed(client, post(client, f"/courses/{course}/manage/assignments",
                                 dict(ASSIGNMENT, slug="no-such-grader")))
    assert flash_of(typo).startswith("refused: no grader named 'no-such-grader'")


def test_a_draft_assignment_is_hidden_from_students_until_made_visible(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    course = world.ids["course_a"]
    draft = {k: v for k, v in ASSIGNMENT.items() if k != "visible"}  # the box unticked
    r = post(client, f"/courses/{course}/manage/assignments", dict(draft, title="Week 9"))
    aid = int(r.headers["location"].split("/")[2])
    assert "Week 9</a> <span class=\"muted\">(draft: students do not see it)" in client.get(
        f"/courses/{course}/manage").text   # staff see drafts, marked
    logged_in(client, world, ctx, "alice")
    assert "Week 9" not in client.get(f"/courses/{course}").text
    assert client.get(f"/assignments/{aid}").status_code == 404
    api = client.get(f"/api/v1/courses/{course}/assignments", headers=world.h("alice")).json()
    assert "Week 9" not in [a["title"] for a in api]
    own = upload(client, world, "alice", assignment="a1")
    assert own.status_code == 201  # others stay open
    with ctx.sessions() as s:   # a1 made a draft after she handed in: her results go too
        s.get(Assignment, world.ids["a1"]).visible = False
        s.commit()
    assert client.get(f"/api/v1/submissions/{own.json()['id']}",
                      headers=world.h("alice")).status_code == 404
    with ctx.sessions() as s:
        s.get(Assignment, world.ids["a1"]).visible = True
        s.commit()
    refused = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                          files=[("files", ("s.py", b"p1", "text/x-python"))])
    assert refused.status_code == 404
    logged_in(client, world, ctx, "inst_a")
    followed(client, post(client, f"/assignments/{aid}/manage/settings",
                          dict(ASSIGNMENT, title="Week 9")))
    logged_in(client, world, ctx, "alice")
    assert "Week 9" in client.get(f"/courses/{course}").text
    assert client.get(f"/assignments/{aid}").status_code == 200


def test_an_instructor_creates_a_course_from_the_courses_page_and_a_student_cannot(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_b")
    courses = client.get("/courses").text
    assert 'href="/courses/new"' in courses
    form = client.get("/courses/new")
    assert form.status_code == 200 and 'id="new-course"' in form.text
    course = {"code": "DL-2026", "title": "Deep learning", "timezone": "Europe/Amsterdam",
              "late_day_budget": "3"}
    forged = post(client, "/courses/new", course, token="not-the-token")
    assert forged.status_code == 403
    r = post(client, "/courses/new", course)
    assert r.status_code == 303 and r.headers["location"].endswith("/manage")
    page = client.get(r.headers["location"]).text
    assert flash_of(page) == "saved: DL-2026 created; you are its instructor."
    assert "Manage DL-2026 · Deep learning" in page
    assert "DL-2026 · Deep learning" in client.get("/courses").text
    with ctx.sessions() as s:
        (c,) = s.query(Course).filter_by(code="DL-2026").all()
        assert (c.timezone, c.late_day_budget) == ("Europe/Amsterdam", 3)
        assert s.query(Enrollment).filter_by(course_id=c.id).one().user_id == world.ids["inst_b"]
    taken = followed(client, post(client, "/courses/new", dict(course, title="Again")))
    assert flash_of(taken) == "refused: course code 'DL-2026' is taken"
    assert 'id="new-course"' in taken
    zone = followed(client, post(client, "/courses/new", dict(course, code="X",
                                                              timezone="Mars/Olympus")))
    assert flash_of(zone).startswith("refused: ") and "Mars/Olympus" in flash_of(zone)
    logged_in(client, world, ctx, "alice")  # the API's rule: instructors and administrators
    assert 'href="/courses/new"' not in client.get("/courses").text
    assert client.get("/courses/new").status_code == 403
    token = page_csrf(client)
    r = post(client, "/courses/new", dict(course, code="MINE"), token=token)
    assert r.status_code == 403 and "only instructors may do this" in r.text
    with ctx.sessions() as s:
        assert s.query(Course).filter_by(code="MINE").count() == 0


def test_a_roster_is_imported_one_student_added_and_one_dropped(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    course = world.ids["course_a"]
    roster = "email,name\nnew1@example.org,New One\nalice@example.org,Alice\nnot-an-email,X\n"
    r = post(client, f"/courses/{course}/manage/roster", {},
             files={"file": ("class.csv", roster.encode(), "text/csv")})
    assert r.status_code == 200
    assert "<strong>1</strong> enrolled, 1 already enrolled, 1 lines refused" in r.text
    assert "line 4: &#39;not-an-email&#39; is not an email address" in r.text
    password = re.search(r"<td>new1@example.org</td><td><code>([^<]+)</code>", r.text)
    assert password  # the one-time password is in the answer, never in a cookie
    assert FLASH_COOKIE not in r.cookies
    one = post(client, f"/courses/{course}/manage/enroll",
               {"email": "ta@example.org", "name": "T A", "role": "instructor"})
    assert "<strong>ta@example.org</strong> enrolled as instructor" in one.text
    assert "one-time password, shown only now" in one.text
    again = followed(client, post(client, f"/courses/{course}/manage/enroll",
                                  {"email": "ta@example.org", "name": "", "role": "student"}))
    assert flash_of(again) == "refused: ta@example.org is already enrolled in COURSE_A"
    page = followed(client, post(client, f"/courses/{course}/manage/drop/{world.ids['bob']}",
                                 {}))
    assert flash_of(page).startswith("saved: Dropped from the course")
    assert "bob@example.org" not in page and "new1@example.org" in page
    me = followed(client, post(client, f"/courses/{course}/manage/drop/{world.ids['inst_a']}",
                               {}))
    assert flash_of(me) == "refused: you cannot drop yourself from a course"


def test_extensions_and_extra_attempts_are_listed_granted_and_revoked(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    aid, alice = world.ids["a1"], world.ids["alice"]
    page = followed(client, post(client, f"/assignments/{aid}/manage/extensions", {
        "user_id": str(alice), "due_at": "2030-01-15T12:00", "reason": "ill"}))
    assert flash_of(page) == "saved: Extension granted."
    row = re.search(rf'<tr id="extension-{alice}">(.*?)</tr>', page, re.S)
    assert row and "alice@example.org" in row.group(1)
    assert "Tue 15 Jan 2030, 12:00 CET" in row.group(1)
    assert "No extra attempts." in page
    page = followed(client, post(client, f"/assignments/{aid}/manage/extra-attempts", {
        "user_id": str(alice), "count": "2", "reason": "lab closed"}))
    assert flash_of(page) == "saved: Extra attempts granted."
    page = followed(client, post(client, f"/assignments/{aid}/manage/extra-attempts", {
        "user_id": str(alice), "count": "1"}))
    grants = re.findall(r'<tr id="extra-attempts-(\d+)">(.*?)</tr>', page, re.S)
    assert len(grants) == 2 and "No extra attempts." not in page
    first, row = grants[0]
    assert "alice@example.org" in row and '<td class="num">2</td>' in row and "lab closed" in row
    forged = post(client, f"/assignments/{aid}/manage/extra-attempts/{first}/revoke", {},
                  token="not-the-token")
    assert forged.status_code == 403
    page = followed(client, post(
        client, f"/assignments/{aid}/manage/extra-attempts/{first}/revoke", {}))
    assert flash_of(page).startswith("saved: Extra attempts revoked")
    assert f'id="extra-attempts-{first}"' not in page and len(
        re.findall(r'<tr id="extra-attempts-', page)) == 1
    gone = followed(client, post(
        client, f"/assignments/{aid}/manage/extra-attempts/{first}/revoke", {}))
    assert flash_of(gone) == f"refused: no grant {first} of extra attempts for this assignment"
    staff_b = followed(client, post(client, f"/assignments/{aid}/manage/extensions", {
        "user_id": str(world.ids["carol"]), "due_at": "2030-01-15T12:00"}))
    assert "not a student of this course" in flash_of(staff_b)  # carol is in course B
    page = followed(client, post(
        client, f"/assignments/{aid}/manage/extensions/{alice}/revoke", {}))
    assert flash_of(page).startswith("saved: Extension revoked")
    assert f'id="extension-{alice}"' not in page and "No extensions." in page
    with ctx.sessions() as s:
        assert s.query(Extension).count() == 0
        assert s.query(ExtraAttempts).one().count == 1


def test_the_submissions_table_filters_by_status_student_and_problem_and_pages(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice", "p1 p2")
    graded(client, world, ctx, broker, "bob", "p2")
    upload(client, world, "alice", content="p1")  # still queued
    logged_in(client, world, ctx, "inst_a")
    base = f"/assignments/{world.ids['a1']}/submissions"
    everything = client.get(base).text
    assert "3 submissions." in everything
    assert "1 submission." in client.get(f"{base}?status=queued").text
    bob = client.get(f"{base}?user_id={world.ids['bob']}").text
    assert "bob@example.org" in bob and "alice@example.org</td>" not in bob
    lost_p1 = client.get(f"{base}?problem=p1&status=graded").text
    assert "1 submission." in lost_p1 and "bob@example.org" in lost_p1
    api = client.get(f"/api/v1{base}?problem=p1", headers=world.h("inst_a"))
    assert [s["email"] for s in api.json()] == ["bob@example.org"]
    with ctx.sessions() as s:
        for n in range(30):
            s.add(Submission(assignment_id=world.ids["a1"], user_id=world.ids["bob"],
                             attempt=10 + n, status="error", storage_key=f"x/{n}"))
        s.commit()
    first = client.get(base).text
    assert "33 submissions; page 1 of 2." in first and 'rel="next"' in first
    second = client.get(f"{base}?page=2").text
    assert second.count("Review</a>") == 8 and 'rel="prev"' in second


def test_a_review_shows_files_as_text_and_scores_a_written_problem(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    code = "p1 p2 t1\n# </pre><script>alert('x')</script>\n"
    first = graded(client, world, ctx, broker, "alice", code)
    logged_in(client, world, ctx, "inst_a")
    page = client.get(f"/submissions/{first}/review").text
    assert "<script>alert" not in page
    assert "# &lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert '<pre class="source">' in page and "solution.py" in page
    assert "p2.secret" in page  # staff see hidden checks
    r = post(client, f"/submissions/{first}/review/score/m1",
             {"points": "3.5", "reason": "clear derivation", "next": "/assignments/1/submissions"})
    assert r.headers["location"] == f"/submissions/{first}/review?next=/assignments/1/submissions"
    page = client.get(r.headers["location"]).text
    assert flash_of(page) == "saved: Score for m1 saved."
    assert re.search(r'<tr id="score-m1">.*?3.5 / 4', page, re.S)
    too_much = followed(client, post(client, f"/submissions/{first}/review/score/m1",
                                     {"points": "9", "reason": "x"}))
    assert flash_of(too_much) == "refused: m1 is worth at most 4 points"
    logged_in(client, world, ctx, "alice")  # the written score is hers, not the submission's
    second = graded(client, world, ctx, broker, "alice", "p1 p2 t1")
    mine = client.get(f"/submissions/{second}").text
    assert "Score given by the course staff: clear derivation" in mine
    assert re.search(r'id="problem-m1">.*?3.5 / 4', mine, re.S)


def test_an_uploaded_file_is_served_as_a_download_whatever_type_the_student_named(
        client: TestClient, world: World, ctx: Context) -> None:
    page = "<html><script>document.cookie</script></html>"
    for name, claimed, served in (("page.html", "text/html", "application/octet-stream"),
                                  ("solution.py", "text/html", "text/plain; charset=utf-8")):
        r = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                        headers=world.h("alice"),
                        files=[("files", ("solution.py", b"p1", "text/x-python")),
                               ("files", (name, page.encode(), claimed))]
                        if name != "solution.py" else
                        [("files", (name, f"p1 {page}".encode(), claimed))])
        assert r.status_code == 201, r.text
        sub = r.json()
        f = next(f for f in sub["files"] if f["name"] == name)
        got = client.get(f"/api/v1/submissions/{sub['id']}/files/{f['id']}",
                         headers=world.h("inst_a"))
        assert got.status_code == 200 and got.headers["content-type"] == served
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"].startswith("sandbox")
        with ctx.sessions() as s:
            s.execute(Submission.__table__.update().values(submitted_at=utcnow()
                                                           - timedelta(hours=1)))
            s.commit()


def test_statistics_plot_scores_pass_rates_failed_checks_and_the_timeline(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice", "p1 p2 t1")
    graded(client, world, ctx, broker, "bob", "p2")  # fails p1's check and t1's
    logged_in(client, world, ctx, "inst_a")
    page = client.get(f"/assignments/{world.ids['a1']}/statistics").text
    assert "2 students graded" in page
    drawings = re.findall(r'<svg class="plot".*?</svg>', page, re.S)
    assert len(drawings) == 4
    assert not any(re.search(r"href|url\(|https?://(?!www.w3.org/2000/svg)", d) for d in drawings)
    failing = re.search(r'<ol class="failing">(.*?)</ol>', page, re.S).group(1)
    ranked = re.findall(r"<li><code>([^<]+)</code>: (\d of \d) fail</li>", failing)
    assert ranked[0] == ("p2: p2.secret", "2 of 2")  # nobody wrote "secret"
    assert {name.split("(")[0] for name, n in ranked[1:]} == {"p1: p1.step", "t1: t1"}
    assert 'class="deadline"' in page


def test_a_written_problem_passes_on_its_score_by_hand_and_is_not_a_fail_until_scored(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    alice = graded(client, world, ctx, broker, "alice", "p1 p2 t1 secret")
    bob = graded(client, world, ctx, broker, "bob", "p2")
    logged_in(client, world, ctx, "inst_a")
    api, page = f"/api/v1/assignments/{world.ids['a1']}/statistics", (
        f"/assignments/{world.ids['a1']}/statistics")
    h = world.h("inst_a")

    def rates() -> dict[str, tuple[float | None, int, int]]:
        return {p["id"]: (p["pass_rate"], p["n"], p["unscored"])
                for p in client.get(api, headers=h).json()["problems"]}

    assert rates()["m1"] == (None, 0, 2)  # not 0%: nobody has scored it yet
    assert rates()["p1"] == (0.5, 2, 0)
    shown = client.get(page).text
    assert re.search(r'<li id="pass-m1"><code>m1</code>: not scored yet</li>', shown)
    for sid, points in ((alice, 4), (bob, 2)):
        r = client.put(f"/api/v1/submissions/{sid}/problems/m1/score", headers=h,
                       json={"points": points, "reason": "read"})
        assert r.status_code == 200, r.text
    assert rates()["m1"] == (0.5, 2, 0)  # alice's full 4 passes, bob's 2 of 4 does not
    client.put(f"/api/v1/submissions/{bob}/problems/p1/score", headers=h,
               json={"points": 2, "reason": "the check was wrong"})
    assert rates()["p1"] == (1.0, 2, 0)  # an override to full points passes too
    shown = client.get(page).text
    assert re.search(r'<li id="pass-m1"><code>m1</code>: 50% of 2</li>', shown)
    assert "50% of 2" in re.search(r'<section class="card figure" id="problem-pass-rates">'
                                   r'.*?</svg>', shown, re.S).group(0)


def test_failed_checks_are_counted_by_their_stable_identity_not_their_name(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice", "p2")
    graded(client, world, ctx, broker, "bob", "p2")
    with ctx.sessions() as s:  # two runs drew two values: two names, one check
        checks = s.query(CheckResult).filter(CheckResult.name.like("p1.step(%")).all()
        for n, c in enumerate(checks):
            c.name = f"p1.step(0.{n}11)"
        s.commit()
    logged_in(client, world, ctx, "inst_a")
    page = client.get(f"/assignments/{world.ids['a1']}/statistics").text
    failing = re.search(r'<ol class="failing">(.*?)</ol>', page, re.S).group(1)
    assert failing.count("p1.step(") == 1 and "2 of 2 fail" in failing


def test_labels_from_a_bundle_are_text_not_markup(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice", "p2")
    evil = '<img src=x onerror="alert(1)">'
    with ctx.sessions() as s:
        for c in s.query(CheckResult).all():
            c.name = c.message = evil + c.name
        s.commit()
    logged_in(client, world, ctx, "inst_a")
    for path in (f"/assignments/{world.ids['a1']}/statistics",
                 f"/submissions/{s_id(ctx)}/review"):
        page = client.get(path).text
        assert "<img" not in page, path
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page or (
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page), path


def s_id(ctx: Context) -> int:
    with ctx.sessions() as s:
        return s.query(Submission).one().id


def test_the_gradebook_shows_problems_and_lateness_and_its_csv_opens_formula_like_names_as_text(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    with ctx.sessions() as s:
        s.get(User, world.ids["alice"]).name = '=HYPERLINK("http://evil","click")'
        s.get(User, world.ids["bob"]).name = "@SUM(A1)"
        a = s.get(Assignment, world.ids["a1"])
        a.due_at, a.late_penalty_per_day = utcnow() - timedelta(hours=1), 0.1
        a.last_accepted_at = utcnow() + timedelta(days=1)
        s.commit()
    graded(client, world, ctx, broker, "alice", "p1 p2 t1 secret")
    logged_in(client, world, ctx, "inst_a")
    page = client.get(f"/courses/{world.ids['course_a']}/gradebook").text
    row = re.search(rf'<tr id="student-{world.ids["alice"]}">(.*?)</tr>', page, re.S).group(1)
    assert "<strong>6.3</strong></a> / 11" in row  # 7 less the 10% of one day late
    assert re.findall(r'<td class="num">([^<]+)</td>', row)[:3] == ["2", "3", "2"]
    assert f'id="written-{world.ids["alice"]}-{world.ids["a1"]}-m1"' in row  # m1: a form
    assert "1 d" in row and "−10%" in row
    got = client.get(f"/courses/{world.ids['course_a']}/gradebook.csv")
    assert got.headers["content-disposition"].startswith("attachment;")
    table = {r["email"]: r for r in csv.DictReader(io.StringIO(got.text))}
    assert table["alice@example.org"]["name"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert table["bob@example.org"]["name"] == "'@SUM(A1)"
    assert table["alice@example.org"]["a1"] == "6.3"
    assert table["alice@example.org"]["a1: p2"] == "3"
    assert table["alice@example.org"]["a1: days late"] == "1"
    assert table["alice@example.org"]["a1: penalty"] == "0.1"


def test_a_flash_is_said_once_and_a_forged_one_not_at_all(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    aid = world.ids["a1"]
    r = post(client, f"/assignments/{aid}/manage/extra-attempts",
             {"user_id": str(world.ids["alice"]), "count": "1"})
    assert flash_of(client.get(r.headers["location"]).text) == "saved: Extra attempts granted."
    assert flash_of(client.get(f"/assignments/{aid}/manage").text) == ""  # once
    client.cookies.set(FLASH_COOKIE, "eyJrIjoic2F2ZWQiLCJ0IjoiPGI-aGk8L2I-In0.forged.sig")
    assert flash_of(client.get(f"/assignments/{aid}/manage").text) == ""
    client.cookies.set(FLASH_COOKIE, client.cookies.get("dlgrade_session"))  # another salt
    assert flash_of(client.get(f"/assignments/{aid}/manage").text) == ""


def test_regrading_every_submission_shows_its_progress(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice")
    graded(client, world, ctx, broker, "bob")
    logged_in(client, world, ctx, "inst_a")
    aid = world.ids["a1"]
    page = followed(client, post(client, f"/assignments/{aid}/manage/regrade",
                                 {"reason": "fixed p2's checker"}))
    assert flash_of(page) == "saved: 2 submissions queued for regrading."
    assert "Grading: 2 queued, 0 running, 0 graded." in page
    assert '<noscript><meta http-equiv="refresh"' in page and "staff.js" in page
    grade_all(ctx, broker)
    fragment = client.get(f"/assignments/{aid}/manage?fragment=progress").text
    assert 'data-busy="no"' in fragment and "2 graded" in fragment
    sid = s_id_of(ctx, "alice", world)
    one = post(client, f"/submissions/{sid}/review/regrade",
               {"reason": "once more", "next": f"/assignments/{aid}/submissions"})
    assert flash_of(client.get(one.headers["location"]).text) == "saved: Queued for grading again."


def s_id_of(ctx: Context, who: str, world: World) -> int:
    with ctx.sessions() as s:
        return s.query(Submission).filter_by(user_id=world.ids[who]).first().id


def test_next_only_leads_to_a_page_of_this_site(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = graded(client, world, ctx, broker)
    logged_in(client, world, ctx, "inst_a")
    for target in ("https://evil.example/x", "//evil.example/assignments/1",
                   "/assignments/1/../../\\evil", "/courses/1", "/assignments/1 x"):
        r = post(client, f"/submissions/{sid}/review/regrade",
                 {"reason": "x", "next": target})
        assert r.headers["location"] == f"/submissions/{sid}/review", target
        grade_all(ctx, broker)
        page = client.get(f"/submissions/{sid}/review?next={target}").text
        assert 'href="https://evil' not in page and 'href="//evil' not in page
    aid = world.ids["a1"]
    r = post(client, f"/assignments/{aid}/manage/regrade",
             {"reason": "x", "next": "https://evil.example"})
    assert r.headers["location"] == f"/assignments/{aid}/manage"


def staff_forms(world: World, sid: int) -> list[tuple[str, dict[str, str]]]:
    """Every staff form, with fields that would be accepted."""
    c, a, alice = world.ids["course_a"], world.ids["a1"], str(world.ids["alice"])
    return [
        (f"/courses/{c}/manage/course", {"title": "Renamed", "timezone": "UTC",
                                          "late_day_budget": "2"}),
        (f"/courses/{c}/manage/assignments", ASSIGNMENT),
        (f"/courses/{c}/manage/enroll", {"email": "z@example.org", "role": "student"}),
        (f"/courses/{c}/manage/drop/{world.ids['bob']}", {}),
        (f"/assignments/{a}/manage/settings", dict(ASSIGNMENT, title="Renamed")),
        (f"/assignments/{a}/manage/extensions", {"user_id": alice, "due_at": "2030-01-01T10:00"}),
        (f"/assignments/{a}/manage/extensions/{alice}/revoke", {}),
        (f"/assignments/{a}/manage/extra-attempts", {"user_id": alice, "count": "1"}),
        (f"/submissions/{sid}/review/score/m1", {"points": "1", "reason": "x"}),
        (f"/assignments/{a}/gradebook/score/{alice}/m1", {"points": "1", "reason": "x"}),
        (f"/submissions/{sid}/review/regrade", {"reason": "x"}),
        (f"/assignments/{a}/manage/regrade", {"reason": "x"}),  # after the one: it is busy
    ]


def unchanged(ctx: Context) -> tuple:
    with ctx.sessions() as s:
        return (s.query(Assignment).count(), s.query(Enrollment).count(),
                s.query(ExtraAttempts).count(), s.query(ScoreAdjustment).count(),
                s.query(Extension).count(), [a.title for a in s.query(Assignment)],
                [sub.status for sub in s.query(Submission)])


def test_every_staff_form_needs_the_sessions_csrf_token(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = graded(client, world, ctx, broker)
    with ctx.sessions() as s:
        s.add(Extension(assignment_id=world.ids["a1"], user_id=world.ids["alice"],
                        due_at=utcnow(), granted_by=world.ids["inst_a"]))
        s.commit()
    logged_in(client, world, ctx, "inst_a")
    before = unchanged(ctx)
    for path, fields in staff_forms(world, sid):
        for token in ("", "forged"):
            r = post(client, path, fields, token=token)
            assert r.status_code == 403 and "another site" in r.text, (path, token)
    csv_form = post(client, f"/courses/{world.ids['course_a']}/manage/roster", {}, token="",
                    files={"file": ("r.csv", b"email\nnew@example.org\n", "text/csv")})
    assert csv_form.status_code == 403
    assert unchanged(ctx) == before
    for path, fields in staff_forms(world, sid):  # and with it, each is accepted
        r = post(client, path, fields)
        assert r.status_code in (200, 303), (path, r.text)
        assert "refused" not in flash_of(client.get(r.headers.get("location", "/courses")).text)


@pytest.mark.parametrize("who", ["alice", "inst_b"])
def test_staff_pages_refuse_students_and_staff_of_another_course(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        who: str) -> None:
    sid = graded(client, world, ctx, broker)
    c, a = world.ids["course_a"], world.ids["a1"]
    logged_in(client, world, ctx, who)
    for path in (f"/courses/{c}/manage", f"/courses/{c}/gradebook",
                 f"/courses/{c}/gradebook.csv", f"/assignments/{a}/manage",
                 f"/assignments/{a}/manage?fragment=progress", f"/assignments/{a}/submissions",
                 f"/assignments/{a}/statistics", f"/submissions/{sid}/review"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "<html" in r.text and "alice@example.org" not in r.text, path
    assert client.get("/courses/999999/manage").status_code == 404
    assert client.get("/assignments/999999/statistics").status_code == 404
    assert client.get("/submissions/999999/review").status_code == 404


@pytest.mark.parametrize("who", ["alice", "inst_b"])
def test_staff_forms_refuse_the_staff_of_another_course(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        who: str) -> None:
    """With their own session's valid token: refused by the course, not by the CSRF check."""
    sid = graded(client, world, ctx, broker)
    logged_in(client, world, ctx, who)
    before = unchanged(ctx)
    for path, fields in staff_forms(world, sid):
        r = post(client, path, fields)
        assert r.status_code == 403 and "another site" not in r.text, path
    r = post(client, f"/courses/{world.ids['course_a']}/manage/roster", {},
             files={"file": ("r.csv", b"email\nnew@example.org\n", "text/csv")})
    assert r.status_code == 403
    assert unchanged(ctx) == before


def test_a_value_the_database_cannot_hold_is_refused_with_a_page_not_json(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    r = client.get("/courses/99999999999999999999/manage")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "a value in the request is invalid" in html.unescape(r.text)
    api = client.get("/api/v1/courses/99999999999999999999", headers=world.h("inst_a"))
    assert api.status_code == 422 and api.json()["detail"]["code"] == "invalid_value"


def written_cell(page: str, world: World, who: str) -> str:
    row = re.search(rf'<tr id="student-{world.ids[who]}">(.*?)</tr>', page, re.S).group(1)
    found = re.search(rf'<td class="num written" id="written-{world.ids[who]}-'
                      rf'{world.ids["a1"]}-m1">(.*?)</td>', row, re.S)
    return found.group(1) if found else ""


def test_a_written_score_is_typed_in_the_gradebook_and_counts_for_the_student(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = graded(client, world, ctx, broker, "alice", "p1 p2 t1 secret")
    logged_in(client, world, ctx, "inst_a")
    book = f"/courses/{world.ids['course_a']}/gradebook"
    page = client.get(book).text
    cell = written_cell(page, world, "alice")
    assert f'action="/submissions/{sid}/gradebook/score/m1"' in cell
    assert 'name="points"' in cell and 'value=""' in cell and "/ 4" in cell
    assert (f'action="/assignments/{world.ids["a1"]}/gradebook/score/{world.ids["bob"]}/m1"'
            in written_cell(page, world, "bob"))  # no submission: entered for the student
    assert "<strong>7</strong></a> / 11" in page
    action = f"/submissions/{sid}/gradebook/score/m1"
    assert post(client, action, {"points": "3.5", "reason": "x"},
                token="not-the-token").status_code == 403
    r = post(client, action, {"points": "3.5", "reason": "neat proof"})
    assert r.headers["location"] == f"{book}#student-{world.ids['alice']}"
    page = client.get(r.headers["location"]).text
    assert flash_of(page) == "saved: Score for m1 of alice@example.org saved."
    cell = written_cell(page, world, "alice")
    assert 'value="3.5"' in cell and 'value="neat proof"' in cell
    assert "<strong>10.5</strong></a> / 11" in page
    too_much = followed(client, post(client, action, {"points": "5", "reason": "x"}))
    assert flash_of(too_much) == "refused: m1 is worth at most 4 points"
    no_reason = followed(client, post(client, action, {"points": "1", "reason": ""}))
    assert flash_of(no_reason).startswith("refused: reason")
    assert 'value="3.5"' in written_cell(no_reason, world, "alice")
    got = client.get(f"{book}.csv").text
    alice = next(r for r in csv.DictReader(io.StringIO(got)) if r["email"] == "alice@example.org")
    assert (alice["a1"], alice["a1: m1"]) == ("10.5", "3.5")
    logged_in(client, world, ctx, "alice")
    assert post(client, action, {"points": "4", "reason": "mine"}).status_code == 403
    mine = client.get(f"/submissions/{sid}").text
    assert "Score given by the course staff: neat proof" in mine
    assert re.search(r'id="problem-m1">.*?3.5 / 4', mine, re.S)


def test_a_student_who_handed_in_no_code_is_scored_in_the_gradebook_and_sees_it(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    graded(client, world, ctx, broker, "alice", "p1 p2 t1 secret")
    logged_in(client, world, ctx, "inst_a")
    book = f"/courses/{world.ids['course_a']}/gradebook"
    action = f"/assignments/{world.ids['a1']}/gradebook/score/{world.ids['bob']}/m1"
    cell = written_cell(client.get(book).text, world, "bob")
    assert f'action="{action}"' in cell and 'value=""' in cell and "/ 4" in cell
    assert post(client, action, {"points": "3", "reason": "x"},
                token="not-the-token").status_code == 403
    too_much = followed(client, post(client, action, {"points": "5", "reason": "x"}))
    assert flash_of(too_much) == "refused: m1 is worth at most 4 points"
    r = post(client, action, {"points": "3", "reason": "proof on paper"})
    assert r.headers["location"] == f"{book}#student-{world.ids['bob']}"
    page = client.get(r.headers["location"]).text
    assert flash_of(page) == "saved: Score for m1 of bob@example.org saved."
    row = re.search(rf'<tr id="student-{world.ids["bob"]}">(.*?)</tr>', page, re.S).group(1)
    assert "<strong>3</strong> / 11" in row and "written only" in row
    assert re.search(r'class="num total"><strong>3</strong>', row)
    assert 'value="3"' in written_cell(page, world, "bob")
    assert 'value="proof on paper"' in written_cell(page, world, "bob")
    logged_in(client, world, ctx, "bob")
    assert post(client, action, {"points": "4", "reason": "mine"}).status_code == 403
    mine = client.get(f"/assignments/{world.ids['a1']}").text
    assert re.search(r'id="written-m1">.*?3 / 4.*?proof on paper', mine, re.S)
    assert "You have not handed anything in yet." in mine
