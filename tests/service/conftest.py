"""Service tests run against the machine's real PostgreSQL and Redis.

Each session creates its own PostgreSQL database (migrated with Alembic) and
drops it at the end; each test empties the tables afterwards and uses its own
Redis queue names, so concurrent runs on one machine do not meet.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # fakes.py, importable by name in workers too

from service.app import create_app  # noqa: E402
from service.context import Context, build_context  # noqa: E402
from service.db import migrate  # noqa: E402
from service.models import (  # noqa: E402
    ApiToken,
    Assignment,
    Base,
    Course,
    Enrollment,
    User,
    utcnow,
)
from service.security import hash_password, new_api_token  # noqa: E402
from service.settings import Settings  # noqa: E402

PG_ADMIN = os.environ.get("DLGRADE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DLGRADE_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Every queue this session makes starts with this, so the end of the session can
# remove what it left in the machine's shared Redis and nothing else.
SESSION_PREFIX = f"dlgtest{uuid.uuid4().hex[:8]}"


def queue_prefix() -> str:
    return f"{SESSION_PREFIX}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session", autouse=True)
def _clean_shared_redis() -> Iterator[None]:
    yield
    import json

    import redis

    try:
        r = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
        for key in r.scan_iter(f"*{SESSION_PREFIX}*"):
            r.delete(key)
        for tag, raw in r.hgetall("unacked").items():  # messages of workers the tests killed
            if SESSION_PREFIX in json.loads(raw)[2]:
                r.hdel("unacked", tag)
                r.zrem("unacked_index", tag)
    except redis.RedisError:
        pass


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"dlgrade_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate(ctx: Context) -> None:
    """DELETE, not TRUNCATE: on tables this small it is many times faster."""
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE submissions SET current_run_id = NULL"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


class RecordingBroker:
    """Remembers sends instead of making them; ``down`` makes it fail like a dead Redis."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.down = False

    def send(self, queue: str, payload: dict[str, Any]) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.sent.append((queue, payload))


@pytest.fixture
def settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=pg_url, redis_url=None, state_dir=tmp_path / "data",
                    secret_key=SecretStr("test-secret-" + "x" * 32), grader="fakes:FakeGrader",
                    lease_seconds=30, queue_prefix=queue_prefix(), log_json=False,
                    grader_memory_limit_mb=0)  # in-process; test_svc_isolation covers the child


@pytest.fixture
def broker() -> RecordingBroker:
    return RecordingBroker()


@pytest.fixture
def ctx(settings: Settings, broker: RecordingBroker) -> Iterator[Context]:
    c = build_context(settings, broker=broker)
    yield c
    truncate(c)
    c.close()


@pytest.fixture
def client(ctx: Context, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, context=ctx)) as c:
        yield c


@dataclass
class World:
    """Two courses, an instructor each, students in both, one open assignment in course A."""

    ctx: Context
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def add_user(self, key: str, role: str = "student", password: str | None = None) -> int:
        token, digest = new_api_token()
        with self.ctx.sessions() as s:
            u = User(email=f"{key}@example.org", name=key.title(), role=role,
                     password_hash=hash_password(password) if password else None)
            s.add(u)
            s.flush()
            s.add(ApiToken(user_id=u.id, name="test", token_hash=digest))
            s.commit()
            self.ids[key], self.tokens[key] = u.id, token
            return u.id

    def enroll(self, key: str, course: str, role: str = "student") -> None:
        with self.ctx.sessions() as s:
            s.add(Enrollment(course_id=self.ids[course], user_id=self.ids[key], role=role))
            s.commit()

    def add_assignment(self, key: str, course: str = "course_a", **kw: Any) -> int:
        now = utcnow()
        values: dict[str, Any] = {"slug": "fake-a1", "title": key, "opens_at": now - timedelta(
            days=1), "due_at": now + timedelta(days=1)}
        values.update(kw)
        with self.ctx.sessions() as s:
            a = Assignment(course_id=self.ids[course], **values)
            s.add(a)
            s.commit()
            self.ids[key] = a.id
            return a.id


@pytest.fixture
def world(ctx: Context) -> World:
    return make_world(ctx)


def make_world(ctx: Context) -> World:
    """Two courses with an instructor, students and an assignment each."""
    w = World(ctx)
    w.add_user("admin", "admin")
    for key in ("inst_a", "inst_b"):
        w.add_user(key, "instructor")
    for key in ("alice", "bob", "carol"):
        w.add_user(key)
    with ctx.sessions() as s:
        for key, tz in (("course_a", "Europe/Amsterdam"), ("course_b", "America/New_York")):
            c = Course(code=key.upper(), title=key, timezone=tz, late_day_budget=0)
            s.add(c)
            s.flush()
            w.ids[key] = c.id
        s.commit()
    w.enroll("inst_a", "course_a", "instructor")
    w.enroll("inst_b", "course_b", "instructor")
    w.enroll("alice", "course_a")
    w.enroll("bob", "course_a")
    w.enroll("carol", "course_b")
    w.add_assignment("a1")
    w.add_assignment("b1", course="course_b")
    return w


def upload(client: TestClient, world: World, who: str, assignment: str = "a1",
           content: str = "p1 p2", name: str = "solution.py") -> Any:
    return client.post(f"/api/v1/assignments/{world.ids[assignment]}/submissions",
                       headers=world.h(who), files=[("files", (name, content.encode(),
                                                               "text/x-python"))])


@pytest.fixture
def live_server(ctx: Context, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free port of 127.0.0.1, for a real browser."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, context=ctx), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Any]:
    """One headless Debian chromium for the session, driven by Debian's chromium-driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,900", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)  # elements a page's script adds appear a moment later
    yield driver
    driver.quit()


@pytest.fixture
def browser(_chromium: Any) -> Iterator[Any]:
    """The session's browser, with no cookies from an earlier test."""
    _chromium.delete_all_cookies()
    _chromium.set_window_size(1200, 900)
    yield _chromium
    _chromium.delete_all_cookies()
