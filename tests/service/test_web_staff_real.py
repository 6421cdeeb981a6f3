"""The issue's instructor flow in real headless Chromium, on the real thing.

The API and a Celery worker run as processes, on PostgreSQL and Redis, with
the real engine: the instructor creates an assignment of the built-in
``ucla-c247-hw3`` (it has a written problem), imports a roster, grants an
extension; two students' zips, handed in over the HTTP API with their
tokens, are graded by the worker; the instructor reads the histogram and
the gradebook, enters the written score, regrades everything and watches
it finish in the page, and downloads the CSV. The in-process variant, with
the fake grader and screenshots for docs/, is ``test_web_staff_browser.py``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import World
from procs import ROOT, start_api, start_worker
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from test_svc_processes import proc_env, procs, wait_graded  # noqa: F401 - fixtures
from test_web_staff_browser import FETCH
from test_web_student_browser import PASSWORD, text_of, wait_text, with_password
from webtools import browser_login, set_field, submit_new_assignment, wait_for_url

from service.context import Context

STUDENT = ROOT / "tests/assignments/ucla_c247_hw3/submissions/student/nndl"
WRITTEN = "written.matrix_calculus"
# A real bug from tests/assignments/ucla_c247_hw3/bugs.py: costs (part of) neural_net.loss.
BUG = ("loss = data_loss + reg_loss", "loss = data_loss")


def nndl_zip(path: Path, bug: tuple[str, str] | None = None) -> Path:
    """The student-style ``nndl`` package, zipped as a student hands it in."""
    with zipfile.ZipFile(path, "w") as archive:
        for source in sorted(STUDENT.glob("*.py")):
            text = source.read_text()
            if bug and source.name == "neural_net.py":
                assert text.count(bug[0]) == 1
                text = text.replace(*bug)
            archive.writestr(f"nndl/{source.name}", text)
    return path


def hand_in(url: str, world: World, who: str, aid: int, path: Path) -> int:
    with path.open("rb") as f:
        r = httpx.post(f"{url}/api/v1/assignments/{aid}/submissions", headers=world.h(who),
                       files=[("files", (path.name, f, "application/zip"))], timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.timeout(300)
def test_an_instructor_runs_a_real_assignment_through_the_api_and_a_celery_worker(
        browser: Any, world: World, ctx: Context, proc_env: dict[str, str],  # noqa: F811
        procs: list[Any], tmp_path: Path) -> None:  # noqa: F811
    course = world.ids["course_a"]
    api, url = start_api(proc_env, tmp_path / "api.log")
    procs.append(api)
    procs.append(start_worker(proc_env, tmp_path / "worker.log"))
    browser_login(browser, url, with_password(ctx, world, "inst_a"), PASSWORD,
                  f"/courses/{course}/manage")
    wait_for_url(browser, f"/courses/{course}/manage")

    # a new assignment of a built-in grader, offered in the page's list
    assert "ucla-c247-hw3" in [o.get_attribute("value") for o in
                               browser.find_elements(By.CSS_SELECTOR, "#graders option")]
    submit_new_assignment(browser, "ucla-c247-hw3", "HW3", "2025-09-01T09:00",
                          "2029-12-20T23:59")
    wait_text(browser, ".flash", "HW3 created.")
    aid = int(browser.current_url.split("/assignments/")[1].split("/")[0])
    assert browser.current_url.startswith(f"{url}/assignments/{aid}/manage")

    # a roster from CSV: one new student, one already enrolled
    browser.get(f"{url}/courses/{course}/manage")
    roster = tmp_path / "class.csv"
    roster.write_text("email,name\ndana@example.org,Dana\nalice@example.org,Alice\n")
    browser.find_element(By.ID, "roster-file").send_keys(str(roster))
    browser.find_element(By.CSS_SELECTOR, "#import button[type=submit]").click()
    wait_text(browser, "#import-result", "1 enrolled, 1 already enrolled")
    assert "dana@example.org" in text_of(browser, "table.roster")

    # an extension
    browser.get(f"{url}/assignments/{aid}/manage")
    Select(browser.find_element(By.CSS_SELECTOR, "#grant-extension [name=user_id]")
           ).select_by_visible_text("alice@example.org")
    set_field(browser, "#grant-extension", "due_at", "2030-01-15T12:00")
    browser.find_element(By.CSS_SELECTOR, "#grant-extension [name=reason]").send_keys("ill")
    browser.find_element(By.CSS_SELECTOR, "#grant-extension button[type=submit]").click()
    wait_text(browser, ".flash", "Extension granted.")
    assert "Tue 15 Jan 2030, 12:00 CET" in text_of(browser, f"#extension-{world.ids['alice']}")

    # two students hand in over the API; the worker grades both with the real engine
    alice_sub = hand_in(url, world, "alice", aid, nndl_zip(tmp_path / "alice.zip"))
    bob_sub = hand_in(url, world, "bob", aid, nndl_zip(tmp_path / "bob.zip", BUG))
    alice = wait_graded(url, alice_sub, world.h("alice"))
    bob = wait_graded(url, bob_sub, world.h("bob"))
    assert alice["status"] == bob["status"] == "graded", (alice, bob)
    lost = [p["id"] for p in bob["problems"] if p["status"] in ("partial", "failed")]
    assert lost == ["neural_net.loss"], bob["problems"]
    assert alice["score"] - 2 <= bob["score"] < alice["score"]

    # the plots: the histogram, and the check bob's bug fails
    browser.get(f"{url}/assignments/{aid}/statistics")
    assert browser.find_element(By.CSS_SELECTOR, "#histogram svg").size["width"] > 300
    assert "neural_net.loss" in text_of(browser, "#failed-checks")
    assert "1 of 2 fail" in text_of(browser, "ol.failing")

    # the written problem's score, entered in alice's review
    browser.get(f"{url}/submissions/{alice_sub}/review")
    assert "alice.zip" in text_of(browser, "section.file")  # a zip: offered as a download
    row = browser.find_element(By.ID, f"score-{WRITTEN}")
    assert "(written)" in row.text
    row.find_element(By.NAME, "points").send_keys("7")
    row.find_element(By.NAME, "reason").send_keys("clear derivation")
    row.find_element(By.TAG_NAME, "button").click()
    wait_text(browser, ".flash", f"Score for {WRITTEN} saved.")
    assert "7 / 10" in browser.find_element(By.ID, f"score-{WRITTEN}").text

    # the gradebook, with the written score in it
    total = alice["score"] + 7
    browser.get(f"{url}/courses/{course}/gradebook")
    alice_row = text_of(browser, f"#student-{world.ids['alice']}")
    assert f"{total:g} / {alice['max_score']:g}" in alice_row, (alice_row, alice)
    assert f"{bob['score']:g} / {bob['max_score']:g}" in text_of(
        browser, f"#student-{world.ids['bob']}")

    # regrade everything, and watch the worker finish it without reloading
    browser.get(f"{url}/assignments/{aid}/manage")
    browser.find_element(By.CSS_SELECTOR, "#regrade-all [name=reason]").send_keys("new checker")
    browser.find_element(By.CSS_SELECTOR, "#regrade-all button[type=submit]").click()
    wait_text(browser, ".flash", "2 submissions queued for regrading.")
    browser.execute_script("window.notReloaded = true")
    seen: list[str] = []

    def finished(b: Any) -> bool:
        progress = text_of(b, "#progress")
        if not seen or seen[-1] != progress:
            seen.append(progress)
        return "Nothing being graded: 2 graded." in progress

    WebDriverWait(browser, 90, poll_frequency=0.1).until(finished)
    assert browser.execute_script("return window.notReloaded") is True
    assert seen[0].startswith("Grading: "), seen  # the page saw it under way, then done
    for sid, who in ((alice_sub, "alice"), (bob_sub, "bob")):  # graded again by the worker
        history = httpx.get(f"{url}/api/v1/submissions/{sid}", headers=world.h(who)).json()[
            "history"]
        assert [(h["reason"], h["status"]) for h in history] == [("new checker", "done")], (
            history, seen)

    # the CSV, fetched with the browser's session: the written score survived the regrade
    browser.get(f"{url}/courses/{course}/gradebook")
    status, disposition, body = browser.execute_async_script(
        FETCH, browser.find_element(By.ID, "csv").get_attribute("href"))
    assert status == 200 and disposition.startswith("attachment;")
    table = {r["email"]: r for r in csv.DictReader(io.StringIO(body))}
    assert table["alice@example.org"]["HW3"] == f"{total:g}", table["alice@example.org"]
    assert table["alice@example.org"][f"HW3: {WRITTEN}"] == "7"
    assert table["bob@example.org"]["HW3"] == f"{bob['score']:g}"
    assert table["dana@example.org"]["HW3"] == ""
