"""Helpers for tests of the pages: logging in with a test client or a real browser."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def wait_for_url(browser, fragment: str, timeout: float = 10) -> None:
    """A click that submits a form returns before the next page arrives."""
    WebDriverWait(browser, timeout).until(EC.url_contains(fragment))


def gone(element) -> bool:
    """The page holding ``element`` was replaced. Mid-navigation, Chromium may answer "Node
    with given id does not belong to the document" rather than a stale reference (a CI
    failure): either way the element has left its page."""
    try:
        element.is_enabled()
    except WebDriverException:   # StaleElementReferenceException is one
        return True
    return False


def browser_login(browser, base: str, email: str, password: str, path: str = "/courses") -> None:
    browser.get(base + path)
    assert "/login" in browser.current_url
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    submit = browser.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    submit.click()
    # The log-in page itself is "complete" and its URL holds `next=/courses`: wait
    # until it is gone, or a caller's wait for "/courses" passes before the answer.
    WebDriverWait(browser, 10).until(lambda _: gone(submit))
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script("return document.readyState") == "complete")



def login_token(client: TestClient, next_url: str = "/courses") -> str:
    page = client.get(f"/login?next={next_url}")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def log_in(client: TestClient, email: str, password: str, next_url: str = "/courses"):
    token = login_token(client, next_url)
    return client.post(f"/login?next={next_url}", data={"email": email, "password": password,
                                                        "csrf_token": token},
                       follow_redirects=False)


def page_csrf(client: TestClient, path: str = "/courses") -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)




SCREENSHOTS = Path(os.environ.get("DLGRADE_SCREENSHOTS", "/tmp/dlgrade-screenshots"))
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def screenshots(browser, name: str) -> list[Path]:
    """The page as it is now, at desktop and at phone width (full height), for docs/.

    Also asserts that at phone width nothing is wider than the screen.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = browser.get_window_size()
    paths = []
    for label, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        # the window's own frame (about 140 px in headless chromium) is not page: add it
        full, frame = browser.execute_script(
            "return [document.documentElement.scrollHeight,"
            " window.outerHeight - window.innerHeight]")
        browser.set_window_size(width, min(max(height, full + frame), 4000))
        path = SCREENSHOTS / f"{name}-{label}.png"
        browser.save_screenshot(str(path))
        paths.append(path)
        if label == "phone":
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: {overflow}px wider than a phone's screen"
    browser.set_window_size(before["width"], before["height"])
    return paths


def set_field(browser: Any, form: str, name: str, value: str) -> None:
    """Typing into a datetime-local field depends on the browser's locale: set its value."""
    browser.execute_script("arguments[0].value = arguments[1]",
                           browser.find_element(By.CSS_SELECTOR, f"{form} [name={name}]"), value)


def submit_new_assignment(browser: Any, slug: str, title: str, opens_at: str,
                          due_at: str) -> None:
    """Fill and send the course page's new-assignment form (dates as ``YYYY-MM-DDTHH:MM``)."""
    browser.find_element(By.CSS_SELECTOR, "details.card summary").click()
    form = "#new-assignment"
    browser.find_element(By.CSS_SELECTOR, f"{form} [name=slug]").send_keys(slug)
    browser.find_element(By.CSS_SELECTOR, f"{form} [name=title]").send_keys(title)
    set_field(browser, form, "opens_at", opens_at)
    set_field(browser, form, "due_at", due_at)
    browser.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]").click()
