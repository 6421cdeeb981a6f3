"""Fault and load tests: the service as processes, on a PostgreSQL and a Redis of their own.

Nothing here touches the machine's shared PostgreSQL or Redis: see
``reliability_support`` for the private servers. Each test gets its own
database in the session's private cluster, its own private Redis, and its own
API and Celery worker processes (``bench.service_throughput.ServiceStack``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .reliability_support import (
    FAKE,
    FAKE_SLUG,
    SERVICE_TESTS,
    PrivatePostgres,
    PrivateRedis,
    ServiceStack,
    StackFactory,
)


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    root = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))  # not under pytest's 0700 tmp dir
    pg = PrivatePostgres(root)
    try:
        yield pg
    finally:
        pg.stop("fast")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    d = tmp_path / "redis"
    d.mkdir()
    r = PrivateRedis(d)
    try:
        yield r
    finally:
        r.kill()


@pytest.fixture
def make_stack(private_pg: PrivatePostgres, private_redis: PrivateRedis,
               tmp_path: Path) -> Iterator[StackFactory]:
    """Build (and open) a :class:`ServiceStack` on the private servers; closed at the end.

    Defaults suit the fault tests: the fake grader, a sweep every second, a
    3 s lease (renewed every second) and lost messages re-sent after 10 s.
    """
    stacks: list[ServiceStack] = []

    def make(grader: str = FAKE, slug: str = FAKE_SLUG, students: int = 8,
             env: dict[str, str] | None = None) -> ServiceStack:
        base = {"DLGRADE_SWEEP_INTERVAL_SECONDS": "1", "DLGRADE_LEASE_SECONDS": "3",
                "DLGRADE_RESEND_AFTER_SECONDS": "10", "DLGRADE_LOG_JSON": "true"}
        s = ServiceStack(private_pg.admin_url, private_redis.url, tmp_path / "stack",
                         grader=grader, slug=slug, students=students,
                         env={**base, **(env or {})}, pythonpath=[SERVICE_TESTS])
        stacks.append(s)
        return s.open()

    try:
        yield make
    finally:
        private_redis.start()
        private_pg.ensure_running()
        for s in stacks:
            s.close()


