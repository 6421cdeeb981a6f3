"""Password login gives a short-lived JWT; API tokens are long-lived, hashed and revocable."""

from __future__ import annotations

import time

from conftest import World
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.context import Context
from service.models import ApiToken, User
from service.security import create_access_token


def login(client: TestClient, email: str, password: str) -> dict[str, object]:
    return client.post("/api/v1/auth/token",
                       data={"username": email, "password": password}).json()


def test_password_login_returns_a_working_bearer_token(client: TestClient, world: World) -> None:
    world.add_user("dora", password="correct horse")
    tok = login(client, "dora@example.org", "correct horse")
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 30 * 60
    r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert r.json()["email"] == "dora@example.org"


def test_wrong_password_and_unknown_user_are_refused_alike(client: TestClient,
                                                           world: World) -> None:
    world.add_user("dora", password="correct horse")
    for email, pw in (("dora@example.org", "wrong"), ("nobody@example.org", "correct horse")):
        r = client.post("/api/v1/auth/token", data={"username": email, "password": pw})
        assert r.status_code == 401 and r.json()["detail"] == "wrong email or password"


def test_expired_and_forged_tokens_are_refused(client: TestClient, world: World,
                                               ctx: Context) -> None:
    uid = world.ids["alice"]
    expired = create_access_token(uid, ctx.secret, minutes=-1)
    forged = create_access_token(uid, "another-secret-" + "y" * 32, minutes=5)
    for tok in (expired, forged, "dlg_not-a-token", "garbage"):
        r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 401


def test_api_token_is_shown_once_stored_hashed_and_revocable(client: TestClient, world: World,
                                                             ctx: Context) -> None:
    r = client.post("/api/v1/auth/api-tokens", headers=world.h("alice"), json={"name": "ci"})
    assert r.status_code == 201
    token, tid = r.json()["token"], r.json()["id"]
    with ctx.sessions() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and all(len(h) == 64 for h in stored)
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/users/me", headers=h).status_code == 200
    listed = client.get("/api/v1/auth/api-tokens", headers=h).json()
    assert "token" not in listed[0] and any(t["id"] == tid for t in listed)
    assert client.delete(f"/api/v1/auth/api-tokens/{tid}",
                         headers=world.h("bob")).status_code == 404
    assert client.delete(f"/api/v1/auth/api-tokens/{tid}", headers=h).status_code == 204
    assert client.get("/api/v1/users/me", headers=h).status_code == 401


def test_password_change_requires_the_current_one(client: TestClient, world: World,
                                                  ctx: Context) -> None:
    world.add_user("dora", password="correct horse")
    h = world.h("dora")
    bad = client.put("/api/v1/users/me/password", headers=h,
                     json={"current_password": "nope", "new_password": "battery staple"})
    assert bad.status_code == 400
    ok = client.put("/api/v1/users/me/password", headers=h,
                    json={"current_password": "correct horse", "new_password": "battery staple"})
    assert ok.status_code == 204
    assert "access_token" in login(client, "dora@example.org", "battery staple")
    with ctx.sessions() as s:
        pw = s.scalars(select(User.password_hash).where(User.email == "dora@example.org")).one()
        assert pw is not None and pw.startswith("$argon2")


def test_admin_creates_accounts_with_roles(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/users", headers=world.h("admin"),
                    json={"email": "Eve@Example.org", "password": "longenough",
                          "role": "instructor"})
    assert r.status_code == 201 and r.json()["email"] == "eve@example.org"
    again = client.post("/api/v1/users", headers=world.h("admin"),
                        json={"email": "eve@example.org", "password": "longenough"})
    assert again.status_code == 409
    start = time.monotonic()
    assert "access_token" in login(client, "eve@example.org", "longenough")
    assert time.monotonic() - start < 5


def _me(client: TestClient, token: object) -> int:
    return client.get("/api/v1/users/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code


def test_password_change_revokes_earlier_access_and_api_tokens(client: TestClient,
                                                               world: World) -> None:
    world.add_user("dora", password="correct horse")
    old_jwt = login(client, "dora@example.org", "correct horse")["access_token"]
    old_api = world.tokens["dora"]
    other_user = world.tokens["alice"]
    assert _me(client, old_jwt) == 200 and _me(client, old_api) == 200
    r = client.put("/api/v1/users/me/password", headers={"Authorization": f"Bearer {old_jwt}"},
                   json={"current_password": "correct horse", "new_password": "battery staple"})
    assert r.status_code == 204
    assert _me(client, old_jwt) == 401 and _me(client, old_api) == 401
    new_jwt = login(client, "dora@example.org", "battery staple")["access_token"]
    assert _me(client, new_jwt) == 200 and _me(client, other_user) == 200
    created = client.post("/api/v1/auth/api-tokens", json={"name": "ci"},
                          headers={"Authorization": f"Bearer {new_jwt}"}).json()["token"]
    assert _me(client, created) == 200


def test_an_admin_disabling_a_user_revokes_every_token_for_good(client: TestClient,
                                                                world: World) -> None:
    world.add_user("dora", password="correct horse")
    uid = world.ids["dora"]
    jwt_token = login(client, "dora@example.org", "correct horse")["access_token"]
    api_token = world.tokens["dora"]
    assert client.patch(f"/api/v1/users/{uid}", headers=world.h("inst_a"),
                        json={"is_active": False}).status_code == 403
    r = client.patch(f"/api/v1/users/{uid}", headers=world.h("admin"), json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert _me(client, jwt_token) == 401 and _me(client, api_token) == 401
    assert client.post("/api/v1/auth/token", data={
        "username": "dora@example.org", "password": "correct horse"}).status_code == 401
    r = client.patch(f"/api/v1/users/{uid}", headers=world.h("admin"), json={"is_active": True})
    assert r.status_code == 200 and r.json()["is_active"] is True
    # enabled again: a new login works, the tokens from before the disabling still do not
    assert _me(client, jwt_token) == 401 and _me(client, api_token) == 401
    assert _me(client, login(client, "dora@example.org", "correct horse")["access_token"]) == 200


def test_an_admin_cannot_disable_their_own_account(client: TestClient, world: World) -> None:
    r = client.patch(f"/api/v1/users/{world.ids['admin']}", headers=world.h("admin"),
                     json={"is_active": False})
    assert r.status_code == 409 and _me(client, world.tokens["admin"]) == 200
