"""A student's pages through the test client: what they show, to whom, and what they refuse."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import RecordingBroker, World
from fastapi.testclient import TestClient
from sqlalchemy import update
from test_svc_submissions import grade_all
from webtools import log_in, page_csrf

from service import storage
from service.app import create_app
from service.context import Context
from service.models import (
    Assignment,
    CheckResult,
    Course,
    Extension,
    ProblemResult,
    Submission,
    User,
    utcnow,
)
from service.security import hash_password
from service.settings import Settings
from service.web.render import when

PASSWORD = "pw-page-1234"
HASHED = hash_password(PASSWORD)  # once: hashing is slow on purpose


def logged_in(client: TestClient, world: World, ctx: Context, who: str) -> None:
    with ctx.sessions() as s:
        s.execute(update(User).where(User.id == world.ids[who])
                  .values(password_hash=HASHED))
        s.commit()
    client.cookies.clear()
    assert log_in(client, f"{who}@example.org", PASSWORD).status_code == 303


def hand_in(client: TestClient, world: World, content: str = "p1 p2",
            name: str = "solution.py", assignment: str = "a1", token: str | None = None):
    """The upload form as a browser without JavaScript sends it."""
    aid = world.ids[assignment]
    token = page_csrf(client, f"/assignments/{aid}") if token is None else token
    return client.post(f"/assignments/{aid}/upload", data={"csrf_token": token},
                       files=[("files", (name, content.encode(), "text/x-python"))],
                       follow_redirects=False)


def refusal(page: str) -> str:
    found = re.search(r'<p id="upload-error" class="error refusal" role="alert">([^<]*)</p>', page)
    assert found, page
    return found.group(1)


def test_the_course_page_shows_dates_in_the_course_zone_extension_attempts_and_late_days(
        client: TestClient, world: World, ctx: Context) -> None:
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        a.max_submissions = 3
        due = a.due_at
        s.get(Course, world.ids["course_a"]).late_day_budget = 4
        s.add(Extension(assignment_id=a.id, user_id=world.ids["alice"],
                        due_at=due + timedelta(days=2), granted_by=world.ids["inst_a"]))
        s.commit()
    logged_in(client, world, ctx, "alice")
    assert hand_in(client, world).status_code == 303
    page = client.get(f"/courses/{world.ids['course_a']}").text
    assert when(due, "Europe/Amsterdam") in page  # the assignment's own, struck through
    assert f"{when(due + timedelta(days=2), 'Europe/Amsterdam')} (your extension)" in page
    assert re.search(r'class="attempts-left">2<', page)
    assert re.search(r'class="late-days-left">4<', page)
    assert "queued" in page and "Manage" not in page
    bob = client.get(f"/assignments/{world.ids['a1']}")  # alice's page, not bob's: one course
    assert bob.status_code == 200 and "(your extension)" in bob.text


def test_staff_get_links_to_their_pages_and_no_upload_form(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "inst_a")
    course = client.get(f"/courses/{world.ids['course_a']}").text
    assert f'href="/courses/{world.ids["course_a"]}/manage">Manage<' in course
    a = client.get(f"/assignments/{world.ids['a1']}").text
    assert f'href="/assignments/{world.ids["a1"]}/manage">Submissions<' in a
    assert 'id="upload"' not in a
    logged_in(client, world, ctx, "alice")
    assert client.get(f"/courses/{world.ids['course_b']}").status_code == 403
    assert 'id="upload"' in client.get(f"/assignments/{world.ids['a1']}").text


def test_the_form_without_javascript_uploads_and_shows_the_submission(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    logged_in(client, world, ctx, "alice")
    form = client.get(f"/assignments/{world.ids['a1']}").text
    assert "Limits: at most 20 files, 20 MB per file, 50 MB in all." in form
    assert 'accept=".py,.zip,.ipynb"' in form and "multiple" in form
    done = hand_in(client, world)
    assert done.status_code == 303
    sid = int(done.headers["location"].rsplit("/", 1)[1])
    page = client.get(done.headers["location"]).text
    assert "Queued: next in line." in page
    assert '<noscript><meta http-equiv="refresh"' in page  # reloads itself without JS
    grade_all(ctx, broker)
    page = client.get(f"/submissions/{sid}").text
    assert "Graded" in page and "refresh" not in page
    assert re.search(r'class="final-score">3.5</strong> / 11', page)


def test_the_upload_form_is_refused_without_its_csrf_token(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "alice")
    for token in ("", "forged"):
        r = hand_in(client, world, token=token)
        assert r.status_code == 403 and "another site" in r.text
    with ctx.sessions() as s:
        assert s.query(Submission).count() == 0


def test_refusals_are_shown_on_the_page_with_the_servers_reason(
        client: TestClient, world: World, ctx: Context, settings: Settings) -> None:
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        a.max_submissions, a.min_interval_seconds = 2, 3600
        s.commit()
    logged_in(client, world, ctx, "alice")
    broken = hand_in(client, world, content="{not json", name="a1.ipynb")
    assert broken.status_code == 422
    assert refusal(broken.text).startswith("a1.ipynb is not valid JSON")
    settings.max_files = 1
    aid = world.ids["a1"]
    two = client.post(f"/assignments/{aid}/upload", data={"csrf_token": page_csrf(client)},
                      files=[("files", ("a.py", b"p1", "text/x-python")),
                             ("files", ("b.py", b"p2", "text/x-python"))])
    assert two.status_code == 413 and refusal(two.text) == "2 files uploaded; the limit is 1"
    assert hand_in(client, world).status_code == 303
    soon = hand_in(client, world)
    assert soon.status_code == 429 and "submitted too recently" in refusal(soon.text)
    with ctx.sessions() as s:
        s.execute(update(Submission).values(submitted_at=utcnow() - timedelta(hours=2)))
        s.commit()
    assert hand_in(client, world).status_code == 303
    full = hand_in(client, world)
    assert full.status_code == 409
    assert "submission limit reached: 2 of 2 used" in full.text
    assert nothing_chosen(client, aid).status_code == 409  # the limit first, then the files


def nothing_chosen(client: TestClient, aid: int):
    """What a browser sends for a file picker left empty: one part with an empty file name."""
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{page_csrf(client)}\r\n--b\r\nContent-Disposition: form-data; name="files"; '
            'filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n')
    return client.post(f"/assignments/{aid}/upload", content=body.encode(),
                       headers={"Content-Type": "multipart/form-data; boundary=b"})


def test_a_body_past_the_services_limit_is_refused_as_a_page_not_json(
        world: World, ctx: Context, settings: Settings) -> None:
    settings.max_upload_bytes, settings.max_files = 2**20, 2  # the body limit is set at start
    with TestClient(create_app(settings, context=ctx)) as client:
        logged_in(client, world, ctx, "alice")
        big = "p1 " * 400_000  # past the upload limit and the files' allowance together
        r = hand_in(client, world, content=big)
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        assert "a submission may have at most 2 files and 1 MB in all" in r.text
        api = client.post(f"/api/v1/assignments/{world.ids['a1']}/submissions",
                          headers=world.h("alice"),
                          files=[("files", ("a.py", big.encode(), "text/x-python"))])
        assert api.status_code == 413 and api.json()["detail"]["code"] == "body_too_large"


def test_nothing_chosen_is_refused_with_a_sentence(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "alice")
    empty = nothing_chosen(client, world.ids["a1"])
    assert empty.status_code == 422
    assert refusal(empty.text) == "no files uploaded: attach at least one file"


def test_another_students_submission_is_not_shown_but_staff_see_it(
        client: TestClient, world: World, ctx: Context) -> None:
    logged_in(client, world, ctx, "alice")
    sid = hand_in(client, world).headers["location"]
    logged_in(client, world, ctx, "bob")
    other = client.get(sid)
    assert other.status_code == 403 and "this is not your submission" in other.text
    assert "<html" in other.text  # a page, not JSON
    assert client.get(sid + "?fragment=1").status_code == 403
    logged_in(client, world, ctx, "inst_a")
    staff = client.get(sid)
    assert staff.status_code == 200 and "By Alice (alice@example.org)" in staff.text


def test_hidden_checks_stay_hidden_until_the_due_date(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    logged_in(client, world, ctx, "alice")
    sid = hand_in(client, world, content="p1 p2 secret").headers["location"]
    grade_all(ctx, broker)
    before = client.get(sid).text
    assert "hidden check: its result shows after the due date" in before
    assert "p2.secret" not in before and "p2.visible" in before
    logged_in(client, world, ctx, "inst_a")
    assert "p2.secret" in client.get(sid).text  # staff see every check
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        a.due_at = utcnow() - timedelta(minutes=1)
        s.commit()
    logged_in(client, world, ctx, "alice")
    after = client.get(sid).text
    assert "p2.secret" in after and "hidden check: its result" not in after


def test_a_late_submission_shows_the_score_after_the_penalty_and_the_penalty(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        a.due_at = utcnow() - timedelta(hours=3)
        a.last_accepted_at = utcnow() + timedelta(days=3)
        a.late_penalty_per_day = 0.2
        s.commit()
    logged_in(client, world, ctx, "alice")
    assert "what you hand in now is late" in client.get(f"/assignments/{world.ids['a1']}").text
    sid = hand_in(client, world).headers["location"]
    grade_all(ctx, broker)
    page = client.get(sid).text
    assert re.search(r'class="final-score">2.8</strong> / 11', page)
    assert "1 day late: a late penalty of 20% took 0.7 points off 3.5." in page
    history = client.get(f"/assignments/{world.ids['a1']}").text
    assert "(3.5 before a 20% late penalty)" in history


def test_a_regrade_shows_what_changed(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        settings: Settings) -> None:
    logged_in(client, world, ctx, "alice")
    sid = int(hand_in(client, world).headers["location"].rsplit("/", 1)[1])
    grade_all(ctx, broker)
    with ctx.sessions() as s:  # as if a grader fix now failed p2
        sub = s.get(Submission, sid)
        storage.file_path(settings, sub, "solution.py").write_text("p1 xx")
    r = client.post(f"/api/v1/submissions/{sid}/regrade", headers=world.h("inst_a"),
                    json={"reason": "p2's checker fixed"})
    assert r.status_code == 202
    grade_all(ctx, broker)
    page = client.get(f"/submissions/{sid}").text
    assert "p2&#39;s checker fixed" in page
    assert "p2: 1.5 → 0 (partial → failed)" in page


def test_progress_comes_as_a_fragment_and_the_event_stream_accepts_the_cookie(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    logged_in(client, world, ctx, "alice")
    sid = int(hand_in(client, world, content="p1 p2 t1").headers["location"].rsplit("/", 1)[1])
    part = client.get(f"/submissions/{sid}?fragment=1").text
    assert "<html" not in part and 'data-status="queued"' in part
    assert part.count('class="pending"') == 4
    _, first = broker.sent.pop(0)
    from service.services.runner import process_job
    process_job(ctx, first["submission_id"], first["part"])
    part = client.get(f"/submissions/{sid}?fragment=1").text
    assert 'id="problem-p1"' in part and part.count('class="pending"') == 1
    grade_all(ctx, broker)
    events = client.get(f"/api/v1/submissions/{sid}/events")
    assert events.status_code == 200 and '"status":"graded"' in events.text


def test_feedback_that_student_code_wrote_is_shown_as_text_not_markup(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    logged_in(client, world, ctx, "alice")
    sid = hand_in(client, world).headers["location"]
    grade_all(ctx, broker)
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    with ctx.sessions() as s:  # an exception message raised by the student's own code
        s.execute(update(CheckResult).values(message=evil, name=evil))
        s.execute(update(ProblemResult).values(message=evil))
        s.commit()
    logged_in(client, world, ctx, "inst_a")
    page = client.get(sid).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
