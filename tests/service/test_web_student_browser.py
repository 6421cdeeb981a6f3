"""A student's pages in real headless Chromium: handing in, watching it grade, reading it.

The first test serves the app in-process with the fake grader, and grades
from the test, so it can stop between one problem and the next. The second
is the issue's Done-when flow on the real thing: the API and a Celery worker
as processes, PostgreSQL, Redis, the real engine and a real notebook.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from procs import ROOT, start_api, start_worker
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import update
from test_svc_processes import proc_env, procs  # noqa: F401 - fixtures
from test_svc_submissions import grade_all
from webtools import browser_login, screenshots, wait_for_url

from service import storage
from service.context import Context
from service.models import Assignment, Submission, User, utcnow
from service.security import hash_password
from service.services.runner import process_job
from service.settings import Settings

PASSWORD = "pw-student-123"
HASHED = hash_password(PASSWORD)  # once: hashing is slow on purpose
DROP = """
const [name, text] = arguments;
const data = new DataTransfer();
data.items.add(new File([text], name, {type: "text/x-python"}));
document.getElementById("drop").dispatchEvent(
    new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
"""


def with_password(ctx: Context, world: World, who: str) -> str:
    with ctx.sessions() as s:
        s.execute(update(User).where(User.id == world.ids[who])
                  .values(password_hash=HASHED))
        s.commit()
    return f"{who}@example.org"


def text_of(browser: Any, css: str) -> str:
    """The element's text; live pages swap parts in, so one found may be gone when read."""
    for _ in range(20):
        try:
            return browser.find_element(By.CSS_SELECTOR, css).text
        except StaleElementReferenceException:
            continue
    return browser.find_element(By.CSS_SELECTOR, css).text


def wait_text(browser: Any, css: str, fragment: str, timeout: float = 15) -> None:
    WebDriverWait(browser, timeout).until(lambda b: fragment in text_of(b, css))


def test_a_student_hands_in_watches_each_problem_arrive_and_reads_the_result(
        browser: Any, live_server: str, world: World, ctx: Context, broker: RecordingBroker,
        tmp_path: Path) -> None:
    email = with_password(ctx, world, "alice")
    aid = world.ids["a1"]
    browser_login(browser, live_server, email, PASSWORD, f"/assignments/{aid}")
    wait_for_url(browser, f"/assignments/{aid}")
    assert "at most 20 files, 20 MB per file, 50 MB in all" in text_of(browser, ".limits")
    screenshots(browser, "student-assignment-empty")

    picker = browser.find_element(By.ID, "files")
    (tmp_path / "notes.txt").write_text("p1")
    picker.send_keys(str(tmp_path / "notes.txt"))  # checked in the page, nothing sent
    assert "only .py, .zip, .ipynb files are accepted" in text_of(browser, "#upload-error")

    (tmp_path / "a1.ipynb").write_text("{not json")  # refused by the server: 422, said
    picker.clear()
    picker.send_keys(str(tmp_path / "a1.ipynb"))
    browser.find_element(By.ID, "upload-button").click()
    wait_text(browser, "#upload-error", "a1.ipynb is not valid JSON")
    assert browser.current_url.endswith(f"/assignments/{aid}")
    screenshots(browser, "student-upload-refused")

    browser.execute_script(DROP, "solution.py", "p1 p2 t1 secret")  # drag and drop
    assert "solution.py" in text_of(browser, "#chosen")
    browser.find_element(By.ID, "upload-button").click()
    wait_for_url(browser, "/submissions/")
    sid = int(browser.current_url.rsplit("/", 1)[1])
    assert text_of(browser, "#status") == "Queued: next in line."
    browser.execute_script("window.notReloaded = true")

    _, first = broker.sent.pop(0)  # the quick problems; training waits on its own queue
    process_job(ctx, sid, first["part"])
    wait_text(browser, "#status", "3 of 4 problems done")
    assert "p1" in text_of(browser, "#problem-p1")
    screenshots(browser, "student-submission-grading")

    grade_all(ctx, broker)
    wait_text(browser, "#status", "Graded")
    assert browser.execute_script("return window.notReloaded") is True  # live, not reloaded
    assert text_of(browser, ".final-score") == "7"
    assert "1 of 1 checks passed; 1 hidden until the due date" in text_of(browser, "#problem-p2")
    assert "p2.secret" not in browser.page_source
    screenshots(browser, "student-submission")

    browser.get(f"{live_server}/assignments/{aid}")
    assert "7 / 11" in text_of(browser, "table.history")
    screenshots(browser, "student-assignment")
    browser.get(f"{live_server}/courses/{world.ids['course_a']}")
    assert "7 / 11" in text_of(browser, ".latest")
    screenshots(browser, "student-course")


def test_limits_are_checked_before_sending_and_the_apis_refusals_are_shown(
        browser: Any, live_server: str, world: World, ctx: Context, settings: Settings,
        client: TestClient, tmp_path: Path) -> None:
    settings.max_files = 1
    with ctx.sessions() as s:
        s.get(Assignment, world.ids["a1"]).min_interval_seconds = 600
        s.commit()
    aid = world.ids["a1"]
    browser_login(browser, live_server, with_password(ctx, world, "alice"), PASSWORD,
                  f"/assignments/{aid}")
    wait_for_url(browser, f"/assignments/{aid}")
    assert "at most 1 files" in text_of(browser, ".limits")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("p1")
    browser.find_element(By.ID, "files").send_keys(f"{tmp_path / 'a.py'}\n{tmp_path / 'b.py'}")
    browser.find_element(By.ID, "upload-button").click()
    assert text_of(browser, "#upload-error") == "2 files chosen; the limit is 1."
    with ctx.sessions() as s:
        assert s.query(Submission).count() == 0  # refused in the page: nothing was sent
    assert upload(client, world, "alice").status_code == 201
    picker = browser.find_element(By.ID, "files")
    picker.clear()
    picker.send_keys(str(tmp_path / "a.py"))
    browser.find_element(By.ID, "upload-button").click()  # 429 from the API, in its words
    wait_text(browser, "#upload-error", "submitted too recently: wait")
    assert "minimum interval 600 s" in text_of(browser, "#upload-error")


def test_a_late_regraded_submission_shows_the_penalty_and_what_changed(
        browser: Any, live_server: str, world: World, ctx: Context, broker: RecordingBroker,
        settings: Settings, client: TestClient) -> None:
    with ctx.sessions() as s:
        a = s.get(Assignment, world.ids["a1"])
        a.due_at, a.late_penalty_per_day = utcnow() - timedelta(hours=30), 0.1
        a.last_accepted_at = utcnow() + timedelta(days=3)
        s.commit()
    sid = upload(client, world, "alice", content="p1 p2 t1").json()["id"]
    grade_all(ctx, broker)
    with ctx.sessions() as s:  # a fixed checker now fails p2 (same size on disk)
        storage.file_path(settings, s.get(Submission, sid), "solution.py").write_text("p1 xx t1")
    assert client.post(f"/api/v1/submissions/{sid}/regrade", headers=world.h("inst_a"),
                       json={"reason": "p2 now checks the bias"}).status_code == 202
    grade_all(ctx, broker)
    browser_login(browser, live_server, with_password(ctx, world, "alice"), PASSWORD,
                  f"/submissions/{sid}")
    wait_for_url(browser, f"/submissions/{sid}")
    assert "2 days late: a late penalty of 20% took 0.8 points off 4." in text_of(
        browser, ".penalty")
    assert text_of(browser, ".final-score") == "3.2"
    assert "p2: 1.5 → 0 (partial → failed)" in text_of(browser, ".regrades")
    screenshots(browser, "student-submission-late-regraded")


def notebook(path: Path, source: Path) -> Path:
    """A student's notebook: a heading, then their code in a cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Assignment 1"),
                nbformat.v4.new_code_cell(source.read_text())]
    nbformat.write(nb, path)
    return path


@pytest.mark.timeout(400)
def test_a_student_hands_in_a_notebook_and_reads_the_real_graders_feedback_live(
        browser: Any, world: World, ctx: Context, proc_env: dict[str, str],  # noqa: F811
        procs: list[Any], tmp_path: Path) -> None:  # noqa: F811
    aid = world.add_assignment("Assignment 1", slug="radboud-dl-a1")
    email = with_password(ctx, world, "alice")
    api, url = start_api(proc_env, tmp_path / "api.log")
    procs.append(api)
    procs.append(start_worker(proc_env, tmp_path / "worker.log"))
    bug = ROOT / "tests/assignments/radboud_dl_a1/submissions/bug_Linear_db_mean.py"
    nb = notebook(tmp_path / "assignment1.ipynb", bug)

    browser_login(browser, url, email, PASSWORD, f"/assignments/{aid}")
    wait_for_url(browser, f"/assignments/{aid}")
    browser.find_element(By.ID, "files").send_keys(str(nb))
    browser.find_element(By.ID, "upload-button").click()
    wait_for_url(browser, "/submissions/")
    browser.execute_script("window.notReloaded = true")
    seen: list[str] = []

    def graded(b: Any) -> bool:
        status = text_of(b, "#status")
        if not seen or seen[-1] != status:
            seen.append(status)
        return status.startswith(("Graded", "Grading failed"))

    WebDriverWait(browser, 300, poll_frequency=0.2).until(graded)
    assert seen[-1].startswith("Graded"), seen
    assert any("problems done" in s for s in seen), seen  # each problem as it finished
    assert browser.execute_script("return window.notReloaded") is True
    linear = text_of(browser, "#problem-Linear")
    assert "partial" in linear or "failed" in linear
    assert "Linear.backward(x, dy) → db" in linear  # the check that catches the bug, and why
    assert text_of(browser, "#problem-relu").count("passed") >= 1
    assert float(text_of(browser, ".final-score")) < 21
    screenshots(browser, "student-submission-real")
    (tmp_path / "statuses.json").write_text(json.dumps(seen))
