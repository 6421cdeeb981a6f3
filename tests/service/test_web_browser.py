"""The pages in a real browser: Debian's headless chromium, driven through chromium-driver."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from webtools import browser_login, screenshots, wait_for_url


def test_a_student_logs_in_sees_their_courses_and_logs_out(browser, live_server, world):
    world.add_user("dana", password="pw-dana-123")
    world.enroll("dana", "course_a")
    browser_login(browser, live_server, "dana@example.org", "wrong")
    assert "Wrong email or password" in browser.find_element(By.CSS_SELECTOR, ".error").text
    browser_login(browser, live_server, "dana@example.org", "pw-dana-123")
    wait_for_url(browser, "/courses")
    assert browser.current_url == live_server + "/courses"
    assert "COURSE_A" in browser.find_element(By.TAG_NAME, "main").text
    session = browser.get_cookie("dlgrade_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait_for_url(browser, "/login")
    browser.get(live_server + "/courses")
    assert "/login" in browser.current_url


def test_pages_fit_a_phone_screen(browser, live_server, world):
    world.add_user("dana", password="pw-dana-123")
    world.enroll("dana", "course_a")
    browser.get(live_server + "/login")
    screenshots(browser, "login")
    browser_login(browser, live_server, "dana@example.org", "pw-dana-123")
    wait_for_url(browser, "/courses")
    desktop, phone = screenshots(browser, "courses")
    assert desktop.stat().st_size > 1000 and phone.stat().st_size > 1000
