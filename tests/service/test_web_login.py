"""Logging in to the pages: the session cookie, its CSRF token, and their limits."""

from __future__ import annotations

from sqlalchemy import update
from webtools import log_in, page_csrf

from service.models import User


def test_pages_ask_for_a_login_and_return_to_the_page_asked_for(client, world):
    world.add_user("dana", password="pw-dana-123")
    world.enroll("dana", "course_a")
    first = client.get("/courses?archived=1", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/courses%3Farchived%3D1"
    done = log_in(client, "dana@example.org", "pw-dana-123", "/courses")
    assert done.status_code == 303 and done.headers["location"] == "/courses"
    cookie = done.headers["set-cookie"]
    assert "dlgrade_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/courses")
    assert page.status_code == 200 and "COURSE_A" in page.text and "COURSE_B" not in page.text


def test_a_wrong_password_or_a_forged_form_is_refused_with_a_reason(client, world):
    world.add_user("dana", password="pw-dana-123")
    wrong = log_in(client, "dana@example.org", "nope")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    assert "dlgrade_session" not in client.cookies
    forged = client.post("/login", data={"email": "dana@example.org", "password": "pw-dana-123",
                                         "csrf_token": "made-up"}, follow_redirects=False)
    assert forged.status_code == 403 and "expired" in forged.text
    assert "dlgrade_session" not in client.cookies


def test_the_login_never_redirects_to_another_site(client, world):
    world.add_user("dana", password="pw-dana-123")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        done = log_in(client, "dana@example.org", "pw-dana-123", target)
        assert done.headers["location"] == "/courses", target


def test_a_session_changes_nothing_without_its_csrf_token(client, world):
    world.add_user("dana", password="pw-dana-123")
    log_in(client, "dana@example.org", "pw-dana-123")
    # Reads need no token: a page's own scripts read the API with the cookie.
    assert client.get("/api/v1/users/me").json()["email"] == "dana@example.org"
    refused = client.post("/api/v1/auth/api-tokens", json={"name": "x"})
    assert refused.status_code == 403 and "another site" in refused.json()["detail"]
    wrong = client.post("/api/v1/auth/api-tokens", json={"name": "x"},
                        headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403
    made = client.post("/api/v1/auth/api-tokens", json={"name": "x"},
                       headers={"X-CSRF-Token": page_csrf(client)})
    assert made.status_code == 201
    assert client.post("/logout", follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": page_csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/courses", follow_redirects=False).status_code == 303


def test_a_password_change_ends_every_session(client, world, ctx):
    uid = world.add_user("dana", password="pw-dana-123")
    log_in(client, "dana@example.org", "pw-dana-123")
    assert client.get("/courses", follow_redirects=False).status_code == 200
    with ctx.sessions() as s:
        s.execute(update(User).where(User.id == uid).values(token_epoch=User.token_epoch + 1))
        s.commit()
    assert client.get("/courses", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/users/me").status_code == 401


def test_a_tampered_cookie_is_no_session(client, world):
    world.add_user("dana", password="pw-dana-123")
    log_in(client, "dana@example.org", "pw-dana-123")
    value = client.cookies["dlgrade_session"]
    client.cookies.set("dlgrade_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert client.get("/api/v1/users/me").status_code == 401


def test_errors_are_pages_for_pages_and_json_for_the_api(client, world):
    world.add_user("dana", password="pw-dana-123")
    log_in(client, "dana@example.org", "pw-dana-123")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["detail"] == "Not Found"
    assert client.get("/static/dlgrade.css").status_code == 200
