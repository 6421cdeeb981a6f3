"""The course staff's pages in real headless Chromium: the issue's instructor flow.

The app is served in-process with the fake grader, and the test grades what
is queued (as a worker would), so it can watch a regrade's progress arrive;
it also writes the staff pages' screenshots for docs/. The same flow on the
real thing (API and Celery worker as processes, the real engine) is
``test_web_staff_real.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from test_svc_submissions import grade_all
from test_web_student_browser import PASSWORD, text_of, wait_text, with_password
from webtools import browser_login, screenshots, set_field, submit_new_assignment, wait_for_url

from service.context import Context

FETCH = """
const [url, done] = arguments;
fetch(url, {credentials: "same-origin"}).then(async r => done(
    [r.status, r.headers.get("content-disposition"), await r.text()]));
"""


def test_an_instructor_sets_up_grants_reads_the_plots_scores_regrades_and_downloads(
        browser: Any, live_server: str, world: World, ctx: Context, broker: RecordingBroker,
        client: TestClient, tmp_path: Path) -> None:
    course, a1 = world.ids["course_a"], world.ids["a1"]
    alice_sub = upload(client, world, "alice", content="p1 p2 t1 secret").json()["id"]
    upload(client, world, "bob", content="p2")
    grade_all(ctx, broker)
    browser_login(browser, live_server, with_password(ctx, world, "inst_a"), PASSWORD,
                  f"/courses/{course}/manage")
    wait_for_url(browser, f"/courses/{course}/manage")

    # a new assignment
    submit_new_assignment(browser, "fake-a1", "Week 3", "2026-03-02T09:00", "2026-03-16T23:59")
    wait_text(browser, ".flash", "Week 3 created.")
    screenshots(browser, "staff-assignment-new")

    # a roster from CSV
    browser.get(f"{live_server}/courses/{course}/manage")
    roster = tmp_path / "class.csv"
    roster.write_text("email,name\ndana@example.org,Dana\nalice@example.org,Alice\n")
    browser.find_element(By.ID, "roster-file").send_keys(str(roster))
    browser.find_element(By.CSS_SELECTOR, "#import button[type=submit]").click()
    wait_text(browser, "#import-result", "1 enrolled, 1 already enrolled")
    assert "dana@example.org" in text_of(browser, "table.passwords")
    assert "dana@example.org" in text_of(browser, "table.roster")
    screenshots(browser, "staff-course")

    # an extension
    browser.get(f"{live_server}/assignments/{a1}/manage")
    Select(browser.find_element(By.CSS_SELECTOR, "#grant-extension [name=user_id]")
           ).select_by_visible_text("alice@example.org")
    set_field(browser, "#grant-extension", "due_at", "2030-01-15T12:00")
    browser.find_element(By.CSS_SELECTOR, "#grant-extension [name=reason]").send_keys("ill")
    browser.find_element(By.CSS_SELECTOR, "#grant-extension button[type=submit]").click()
    wait_text(browser, ".flash", "Extension granted.")
    assert "Tue 15 Jan 2030, 12:00 CET" in text_of(browser, f"#extension-{world.ids['alice']}")

    # extra attempts, granted and revoked
    Select(browser.find_element(By.CSS_SELECTOR, "#extra-attempts [name=user_id]")
           ).select_by_visible_text("bob@example.org")
    count = browser.find_element(By.CSS_SELECTOR, "#extra-attempts [name=count]")
    count.clear()
    count.send_keys("2")
    browser.find_element(By.CSS_SELECTOR, "#extra-attempts [name=reason]").send_keys("lab down")
    browser.find_element(By.CSS_SELECTOR, "#extra-attempts button[type=submit]").click()
    wait_text(browser, ".flash", "Extra attempts granted.")
    grant = text_of(browser, "table.extra-attempts tbody tr")
    assert "bob@example.org" in grant and "2" in grant and "lab down" in grant
    screenshots(browser, "staff-assignment")
    browser.find_element(By.CSS_SELECTOR, "table.extra-attempts button[type=submit]").click()
    wait_text(browser, ".flash", "Extra attempts revoked")
    assert "No extra attempts." in text_of(browser, "main")

    # the plots
    browser.get(f"{live_server}/assignments/{a1}/statistics")
    histogram = browser.find_element(By.CSS_SELECTOR, "#histogram svg")
    assert histogram.size["width"] > 300
    assert "p1: p1.step(" in text_of(browser, "#failed-checks")  # bob's three failed checks
    assert text_of(browser, "ol.failing").count("1 of 2 fail") == 3
    screenshots(browser, "staff-statistics")

    # a written score, entered in the review
    browser.get(f"{live_server}/submissions/{alice_sub}/review")
    assert "p1 p2 t1 secret" in text_of(browser, "pre.source")
    row = "#score-m1"
    browser.find_element(By.CSS_SELECTOR, f"{row} [name=points]").send_keys("3.5")
    browser.find_element(By.CSS_SELECTOR, f"{row} [name=reason]").send_keys("clear derivation")
    browser.find_element(By.CSS_SELECTOR, f"{row} button").click()
    wait_text(browser, ".flash", "Score for m1 saved.")
    assert "3.5 / 4" in text_of(browser, row)
    screenshots(browser, "staff-review")

    # the gradebook, with the written score in it, and bob's typed in his row
    browser.get(f"{live_server}/courses/{course}/gradebook")
    alice_row = text_of(browser, f"#student-{world.ids['alice']}")
    assert "10.5 / 11" in alice_row
    m1 = f"#written-{world.ids['alice']}-{a1}-m1"
    assert browser.find_element(By.CSS_SELECTOR, f"{m1} [name=points]"
                                ).get_attribute("value") == "3.5"
    bob_m1 = f"#written-{world.ids['bob']}-{a1}-m1"
    browser.find_element(By.CSS_SELECTOR, f"{bob_m1} [name=points]").send_keys("2")
    browser.find_element(By.CSS_SELECTOR, f"{bob_m1} [name=reason]").send_keys("half right")
    browser.find_element(By.CSS_SELECTOR, f"{bob_m1} button").click()
    wait_text(browser, ".flash", "Score for m1 of bob@example.org saved.")
    assert "3.5 / 11" in text_of(browser, f"#student-{world.ids['bob']}")  # p2 1.5, m1 2
    screenshots(browser, "staff-gradebook")
    status, disposition, body = browser.execute_async_script(
        FETCH, browser.find_element(By.ID, "csv").get_attribute("href"))
    assert status == 200 and disposition.startswith("attachment;")
    table = {r["email"]: r for r in csv.DictReader(io.StringIO(body))}
    assert table["alice@example.org"]["a1"] == "10.5"
    assert table["alice@example.org"]["a1: m1"] == "3.5"

    # regrade everything, and watch it finish without reloading
    browser.get(f"{live_server}/assignments/{a1}/manage")
    browser.find_element(By.CSS_SELECTOR, "#regrade-all [name=reason]").send_keys("new checker")
    browser.find_element(By.CSS_SELECTOR, "#regrade-all button[type=submit]").click()
    wait_text(browser, ".flash", "2 submissions queued for regrading.")
    assert "2 queued" in text_of(browser, "#progress")
    browser.execute_script("window.notReloaded = true")
    screenshots(browser, "staff-assignment-regrading")
    grade_all(ctx, broker)
    wait_text(browser, "#progress", "Nothing being graded: 2 graded.")
    assert browser.execute_script("return window.notReloaded") is True

    browser.get(f"{live_server}/assignments/{a1}/submissions?status=graded")
    assert "2 submissions." in text_of(browser, "#count")
    screenshots(browser, "staff-submissions")

    # a new course, from the courses page
    browser.get(f"{live_server}/courses")
    browser.find_element(By.ID, "new-course-link").click()
    wait_for_url(browser, "/courses/new")
    form = "#new-course"
    browser.find_element(By.CSS_SELECTOR, f"{form} [name=code]").send_keys("DL-2027")
    browser.find_element(By.CSS_SELECTOR, f"{form} [name=title]").send_keys("Deep learning")
    tz = browser.find_element(By.CSS_SELECTOR, f"{form} [name=timezone]")
    tz.clear()
    tz.send_keys("Europe/Amsterdam")
    screenshots(browser, "staff-course-new")
    browser.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]").click()
    wait_text(browser, ".flash", "DL-2027 created; you are its instructor.")
