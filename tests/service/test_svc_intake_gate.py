"""Refused uploads cost no attempt, so the intake gate bounds what they may cost instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import World, upload
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from graders.errors import ReadingFailed
from service.context import Context
from service.models import Submission
from service.services.errors import TooSoon
from service.services.intake_gate import IntakeGate

BROKEN = [("files", ("hw.ipynb", b'{"nbformat": 4, "cells": [', "application/x-ipynb+json"))]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _detail(r: Any) -> dict[str, Any]:
    return r.json()["detail"]


def _submissions(ctx: Context) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(Submission)) or 0


def test_after_too_many_refused_uploads_the_student_waits_and_is_told_how_long(
        client: TestClient, world: World, ctx: Context) -> None:
    clock = Clock()
    ctx.intake = IntakeGate(concurrency=2, refusals=3, window_s=600, wait_s=1, clock=clock)
    url = f"/api/v1/assignments/{world.ids['a1']}/submissions"
    for _ in range(3):
        r = client.post(url, headers=world.h("alice"), files=BROKEN)
        assert r.status_code == 422 and _detail(r)["code"] == "unreadable_notebook"
        clock.now += 100
    r = upload(client, world, "alice")            # even a good one, until the window moves
    assert r.status_code == 429 and _detail(r)["code"] == "too_many_refused"
    assert int(r.headers["retry-after"]) == 300    # the first refusal leaves the window then
    assert "upload again in 300 s" in _detail(r)["message"]
    assert upload(client, world, "bob").status_code == 201   # others are not held up
    clock.now += 301
    assert upload(client, world, "alice").status_code == 201
    assert _submissions(ctx) == 2


def test_a_second_upload_while_the_first_is_checked_is_refused(
        client: TestClient, world: World, ctx: Context) -> None:
    ctx.intake = IntakeGate(concurrency=4, refusals=10, window_s=600, wait_s=1)
    with ctx.intake.admit(world.ids["alice"]):                  # her first upload, still being read
        r = upload(client, world, "alice")
        assert r.status_code == 429 and _detail(r)["code"] == "upload_in_progress"
        assert upload(client, world, "bob").status_code == 201
    assert upload(client, world, "alice").status_code == 201


def test_when_every_reader_is_busy_the_upload_is_refused_with_nothing_kept(
        client: TestClient, world: World, ctx: Context) -> None:
    ctx.intake = IntakeGate(concurrency=1, refusals=10, window_s=600, wait_s=0.2)
    with ctx.intake.admit(world.ids["bob"]):   # the only reader is busy with bob's
        r = upload(client, world, "alice")
    assert r.status_code == 503 and _detail(r)["code"] == "intake_busy"
    assert r.headers["retry-after"] == "30"
    assert _submissions(ctx) == 0
    assert not any(p.is_file() for p in ctx.settings.submissions_dir.rglob("*"))
    assert upload(client, world, "alice").status_code == 201



def test_a_reader_that_timed_out_counts_as_a_refusal() -> None:
    clock = Clock()
    gate = IntakeGate(concurrency=1, refusals=2, window_s=60, wait_s=1, clock=clock)
    for _ in range(2):
        with pytest.raises(ReadingFailed), gate.admit(7):
            raise ReadingFailed("the reader ran out of time")
    with pytest.raises(TooSoon) as refused, gate.admit(7):
        pass
    assert refused.value.code == "too_many_refused"


class Probe(IntakeGate):
    """Looks at the database while an upload waits for its turn."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(concurrency=1, refusals=10, window_s=600, wait_s=1)
        self.ctx, self.waiting_in_transaction = ctx, -1

    @contextmanager
    def admit(self, user_id: int) -> Iterator[None]:
        with self.ctx.engine.connect() as conn:
            self.waiting_in_transaction = conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"))
        with super().admit(user_id):
            yield


def test_an_upload_waiting_for_a_reader_holds_no_database_transaction(
        client: TestClient, world: World, ctx: Context) -> None:
    ctx.intake = probe = Probe(ctx)
    assert upload(client, world, "alice").status_code == 201
    assert probe.waiting_in_transaction == 0
