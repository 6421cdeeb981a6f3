"""A committed result reaches the waiting student at once, not on the next timer tick.

The timers of the long poll and the event stream are set to 30 s here, so only
the workers' announcements (in-process, or over the real Redis) can answer in time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from typing import Any

import pytest
import redis
from conftest import REDIS_URL, RecordingBroker, World, upload
from fastapi.testclient import TestClient
from test_svc_submissions import grade_all

from service.app import create_app
from service.context import Context, build_context
from service.routes import submissions as routes
from service.services.changes import MIN_READ_GAP_S, Changes, until_changed
from service.settings import Settings


def _until(cond: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(what)
        time.sleep(0.01)


@pytest.mark.timeout(60)
def test_a_result_graded_by_another_process_wakes_the_long_poll_through_redis(
        ctx: Context, settings: Settings, world: World, broker: RecordingBroker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "WAIT_RECHECK_S", 30.0)
    channel = settings.queue("changes")
    ctx.changes = Changes(REDIS_URL, channel)  # the API process's
    worker = dataclasses.replace(ctx, changes=Changes(REDIS_URL, channel))  # another process's
    r = redis.Redis.from_url(REDIS_URL)
    with TestClient(create_app(settings, context=ctx)) as c:
        sid = upload(c, world, "alice", content="p1 t1").json()["id"]
        _until(lambda: r.pubsub_numsub(channel)[0][1] >= 1, 10, "the API to subscribe")
        answer: dict[str, Any] = {}

        def long_poll() -> None:
            res = c.get(f"/api/v1/submissions/{sid}/wait?final=true&timeout=20",
                        headers=world.h("alice"))
            answer.update(res.json(), at=time.monotonic())

        waiting = threading.Thread(target=long_poll)
        waiting.start()
        _until(lambda: ctx.changes.waiting() == 1, 10, "the long poll to wait")
        grade_all(worker, broker)
        graded = time.monotonic()
        waiting.join(30)
    assert answer["status"] == "graded" and answer["score"] == 4
    assert answer["at"] - graded < 5  # the 30 s timer would have answered at 20 s, queued


@pytest.mark.timeout(60)
def test_an_embedded_worker_wakes_the_long_poll_in_process(
        settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "WAIT_RECHECK_S", 30.0)
    c = build_context(settings)  # embedded: no Redis, worker threads in this process
    try:
        with TestClient(create_app(settings, context=c)) as client:
            sid = upload(client, world, "alice", content="p1 t1").json()["id"]
            started = time.monotonic()
            res = client.get(f"/api/v1/submissions/{sid}/wait?final=true&timeout=20",
                             headers=world.h("alice")).json()
    finally:
        c.close()
    assert res["status"] == "graded" and res["score"] == 4
    assert time.monotonic() - started < 10


@pytest.mark.timeout(60)
def test_the_event_stream_sends_each_result_as_it_is_committed(
        ctx: Context, settings: Settings, world: World, broker: RecordingBroker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "EVENTS_RECHECK_S", 30.0)
    with TestClient(create_app(settings, context=ctx)) as c:
        sid = upload(c, world, "alice", content="p1 t1").json()["id"]
        events: list[str] = []

        def listen() -> None:
            with c.stream("GET", f"/api/v1/submissions/{sid}/events?timeout=25",
                          headers=world.h("alice")) as res:
                for line in res.iter_lines():
                    if line.startswith("data:"):
                        events.append(line)

        t = threading.Thread(target=listen)
        t.start()
        _until(lambda: ctx.changes.waiting() == 1, 10, "the stream to wait")
        started = time.monotonic()
        grade_all(ctx, broker)
        t.join(30)
    assert time.monotonic() - started < 10
    assert '"status":"queued"' in events[0] and '"status":"graded"' in events[-1]


def test_only_a_submission_id_wakes_anyone() -> None:
    board = Changes()

    async def main() -> list[bool]:
        seen = []
        with board.watch(5) as announced:
            for data in (b"abc", b"9" * 100, b"", b"-5", "5", b"6", b"5"):
                announced.clear()
                board._received(data)
                await until_changed(announced, 0.05)
                seen.append(announced.is_set())
        return seen

    assert asyncio.run(main()) == [False] * 6 + [True]
    assert board.waiting() == 0  # a finished request leaves nothing behind


def test_announcing_without_redis_reachable_never_fails_the_worker(
        caplog: pytest.LogCaptureFixture) -> None:
    board = Changes("redis://127.0.0.1:1/0", "nowhere")  # nothing listens on port 1
    board.announce(7)
    assert "could not announce a change of submission 7" in caplog.text


def test_a_flood_of_announcements_cannot_make_a_waiter_read_back_to_back() -> None:
    board = Changes()

    async def reads_in_half_a_second() -> int:
        reads, end = 0, time.monotonic() + 0.5
        with board.watch(9) as announced:
            flood = asyncio.get_running_loop().call_later

            def again() -> None:  # a forged announcement every millisecond
                board.wake(9)
                if time.monotonic() < end:
                    flood(0.001, again)

            again()
            while time.monotonic() < end:
                announced.clear()
                reads += 1
                await until_changed(announced, 0.25)
        return reads

    assert asyncio.run(reads_in_half_a_second()) <= 0.5 / MIN_READ_GAP_S + 1
