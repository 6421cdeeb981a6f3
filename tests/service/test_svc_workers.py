"""The API asks the workers what they can do: queues consumed (/readyz), data sets installed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import REDIS_URL, World, queue_prefix
from fastapi.testclient import TestClient

from graders.datasets import dataset_dir
from graders.datasets.registry import spec
from service.app import create_app
from service.context import Context, build_context
from service.services.queue import LocalBroker
from service.settings import Settings
from service.worker import CeleryBroker, create_celery

BASE = {"title": "A2", "opens_at": "2030-01-01T09:00:00", "due_at": "2030-02-01T23:59:00",
        "slug": "fake-a1"}  # its training problem t1 needs the mnist data set


def _install_mnist(root: Path) -> None:
    """The files ``is_installed`` looks for (their checksums are ``fetch``'s business)."""
    folder = dataset_dir("mnist", root)
    folder.mkdir(parents=True)
    for f in spec("mnist").files:
        (folder / f.filename).write_bytes(b"x")


def _create(client: TestClient, world: World) -> Any:
    r = client.post(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                    headers=world.h("inst_a"), json=BASE)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def embedded(settings: Settings, world: World) -> Iterator[tuple[TestClient, Context]]:
    c = build_context(settings)  # no broker given: the in-process worker threads
    with TestClient(create_app(settings, context=c)) as client:
        assert isinstance(c.broker, LocalBroker)
        yield client, c
    c.close()


def test_creating_an_assignment_warns_when_its_data_set_is_not_installed(
        embedded: tuple[TestClient, Context], world: World, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = embedded
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "datasets"))
    a = _create(client, world)
    (warning,) = a["warnings"]
    assert "data set mnist is not installed on worker embedded" in warning
    assert "t1 will be reported as skipped" in warning
    assert "dlgrade datasets fetch mnist" in warning
    assert next(p for p in a["problems"] if p["id"] == "t1")["dataset"] == "mnist"
    _install_mnist(tmp_path / "datasets")
    assert _create(client, world)["warnings"] == []
    listed = client.get(f"/api/v1/courses/{world.ids['course_a']}/assignments",
                        headers=world.h("inst_a")).json()
    assert all(x["warnings"] == [] for x in listed)  # said once, when it is created


def test_readyz_says_when_the_embedded_worker_is_not_running(
        embedded: tuple[TestClient, Context]) -> None:
    client, c = embedded
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["checks"]["workers"] == "ok"
    assert isinstance(c.broker, LocalBroker)
    c.broker.stop()  # as if its threads had died
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["checks"]["workers"].startswith("no worker consumes ")
    assert c.settings.queue("grading") in r.json()["checks"]["workers"]


@pytest.mark.timeout(60)
def test_celery_workers_are_asked_for_their_queues_and_data_sets(
        ctx: Context, world: World, settings: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.contrib.testing.worker import start_worker

    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "datasets"))
    settings.redis_url = REDIS_URL
    app = create_celery(settings, ctx)
    ctx.broker = CeleryBroker(app)
    host = f"test-{settings.queue_prefix}@{socket.gethostname()}"
    try:
        with TestClient(create_app(settings, context=ctx)) as c:
            r = c.get("/readyz").json()  # no worker at all
            assert r["status"] == "degraded"
            assert settings.queue("grading") in r["checks"]["workers"]
            (warning,) = _create(c, world)["warnings"]
            assert "no worker answered" in warning and "mnist" in warning
            ctx.broker = CeleryBroker(app)  # forget the cached answer
            with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                              hostname=host, queues=[settings.queue("grading")]):
                r = c.get("/readyz").json()
                assert r["checks"]["workers"] == (f"no worker consumes {settings.queue('regrade')}"
                                                  f", {settings.queue('training')}")
                (warning,) = _create(c, world)["warnings"]
                assert f"data set mnist is not installed on worker {host}" in warning
                _install_mnist(tmp_path / "datasets")
                assert _create(c, world)["warnings"] == []
    finally:
        redis.Redis.from_url(REDIS_URL).delete(*[settings.queue(k) for k in
                                                 ("grading", "training", "regrade")])


def test_only_this_deployments_workers_are_asked_for_their_data_sets(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another deployment's worker on the same Redis says nothing about our workers' disks."""
    settings.redis_url = REDIS_URL
    app = create_celery(settings)
    broker = CeleryBroker(app)
    ours, theirs = f"ours@{socket.gethostname()}", f"theirs@{socket.gethostname()}"
    monkeypatch.setattr(broker, "consumers", lambda: {
        settings.queue("grading"): [ours], f"{queue_prefix()}.grading": [theirs]})
    asked: dict[str, Any] = {}

    def broadcast(command: str, **kw: Any) -> list[dict[str, Any]]:
        asked.update(kw)
        return [{w: {"missing": ["mnist"]}} for w in kw["destination"]]

    monkeypatch.setattr(app.control, "broadcast", broadcast)
    assert broker.missing_datasets(["mnist"]) == {ours: ["mnist"]}
    assert asked["destination"] == [ours]
    monkeypatch.setattr(broker, "consumers", lambda: {f"{queue_prefix()}.grading": [theirs]})
    assert broker.missing_datasets(["mnist"]) == {}  # none of ours: "no worker answered"
