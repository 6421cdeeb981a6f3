"""Refusals under faults, in-process and quick: the database down, the disk full, the send lost.

Each upload that is refused gets an error answer saying so, and nothing of it
is kept; an upload that was committed is never answered with an error.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bench.service_throughput import ServiceStack
from service.app import create_app
from service.context import build_context
from service.models import Outbox, Submission
from service.services.queue import sweep
from service.settings import Settings

from .reliability_support import FULL_MARKS, PrivatePostgres, StackFactory


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, queue: str, payload: dict[str, Any]) -> None:
        self.sent.append(payload)


def _app(stack: ServiceStack, submissions: Path) -> tuple[TestClient, Recorder, Any]:
    settings = Settings(database_url=stack.db_url, redis_url=None,
                        state_dir=submissions.parent / "state", submissions_path=submissions,
                        secret_key=SecretStr("reliability-" + "x" * 32),
                        grader="fakes:FakeGrader", log_json=False)
    broker = Recorder()
    ctx = build_context(settings, broker=broker)
    return TestClient(create_app(settings, context=ctx)), broker, ctx


def _post(client: TestClient, stack: ServiceStack, data: bytes, who: int = 0) -> Any:
    return client.post(f"/api/v1/assignments/{stack.assignment_id}/submissions",
                       headers={"Authorization": f"Bearer {stack.tokens[who]}"},
                       files=[("files", ("solution.py", data, "text/x-python"))])


def _count(stack: ServiceStack) -> int:
    with stack.session() as s:
        return int(s.scalar(select(func.count()).select_from(Submission)) or 0)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a disk that fills up after a few uploads (needs root)."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_upload_while_the_database_is_down_is_refused_with_503_and_nothing_kept(
        make_stack: StackFactory, private_pg: PrivatePostgres, tmp_path: Path) -> None:
    stack = make_stack()
    store = tmp_path / "submissions"
    client, _, ctx = _app(stack, store)
    with client:
        assert _post(client, stack, FULL_MARKS).status_code == 201
        private_pg.stop("immediate")
        try:
            r = _post(client, stack, FULL_MARKS)
        finally:
            private_pg.start()
        assert r.status_code == 503, r.text
        assert r.json()["detail"]["code"] == "database_unavailable"
        assert r.headers["Retry-After"]
        assert len(_files(store)) == 1  # only the first upload's file
        assert _post(client, stack, FULL_MARKS).status_code == 201  # and it recovers
    ctx.close()
    assert _count(stack) == 2


def test_upload_to_a_full_disk_is_refused_with_507_and_leaves_nothing(
        make_stack: StackFactory, tmpfs: Path) -> None:
    stack = make_stack()
    client, _, ctx = _app(stack, tmpfs)
    with client:
        small = _post(client, stack, FULL_MARKS)
        assert small.status_code == 201
        big = FULL_MARKS + b"#" * (128 * 1024)  # under the size limit, over the free space
        r = _post(client, stack, big, who=1)
        assert r.status_code == 507, r.text
        assert r.json()["detail"]["code"] == "storage_full"
        assert r.headers["Retry-After"]
        assert [p.name for p in _files(tmpfs)] == ["solution.py"]  # the first upload only
        assert _count(stack) == 1
        assert _post(client, stack, FULL_MARKS, who=1).status_code == 201  # room for small ones
    ctx.close()


def test_upload_committed_before_the_send_fails_is_accepted_and_sent_by_the_sweep(
        make_stack: StackFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_stack()
    client, broker, ctx = _app(stack, tmp_path / "submissions")

    def database_gone(_: Any) -> int:
        raise OperationalError("SELECT outbox", {}, Exception("server closed the connection"))

    monkeypatch.setattr("service.services.submissions.relay", database_gone)
    with client:
        r = _post(client, stack, FULL_MARKS)
    assert r.status_code == 201, r.text  # it is committed: the student must not resubmit
    assert broker.sent == []
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)
                        .where(Outbox.sent_at.is_(None))) == 2
    sweep(ctx)
    assert sorted(p["part"] for p in broker.sent) == ["quick", "training"]
    ctx.close()
