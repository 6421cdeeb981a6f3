"""Celery: the broker only carries ``(submission_id, part)``; the database decides the rest.

Settings and why:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged
  only after the task returns, and a worker child killed mid-grade puts it
  back instead of acknowledging it (Celery's defaults do the opposite).
- ``worker_prefetch_multiplier=1``: a worker holds one message at a time, so
  a long training job does not sit on quick submissions queued behind it.
- ``visibility_timeout`` above the longest grading: Redis redelivers unacked
  messages after it and would otherwise start a second copy of a long job.
- Separate queues: ``grading`` (fresh quick checks), ``training`` and
  ``regrade`` (whole-assignment regrades, and course bundles' strength checks),
  so neither delays fresh uploads.

Whatever the broker still gets wrong (a message lost in a Redis restart, a
redelivery) the lease, the idempotent claim and the sweep in
``service.services`` put right.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Sequence
from typing import Any

from celery import Celery, signals
from celery.exceptions import SecurityWarning
from celery.worker.control import control_command
from kombu import Queue

from service.context import Context, build_context
from service.services.bundles import run_check
from service.services.queue import Sweeper
from service.services.runner import process_job
from service.services.workers import INSPECT_TIMEOUT_S, missing_locally
from service.settings import Settings

log = logging.getLogger("dlgrade.worker")
TASK = "dlgrade.grade"
BUNDLE_TASK = "dlgrade.check_bundle"  # a bundle's strength check needs a worker's sandbox
DATASETS_COMMAND = "dlgrade_datasets"


def celery_config(settings: Settings) -> dict[str, Any]:
    queues = [settings.queue(k) for k in ("grading", "training", "regrade")]
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {"visibility_timeout": settings.visibility_timeout},
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_default_queue": settings.queue("grading"),
        "task_queues": [Queue(q) for q in queues],
        "task_create_missing_queues": False,
        "task_routes": {BUNDLE_TASK: {"queue": settings.queue("regrade")}},
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_time_limit": settings.longest_grading_seconds,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }


class CeleryBroker:
    """Publishes to Redis; fails fast (no retries) so the outbox row waits for the sweep.

    It also asks the workers, over the broker's control channel, which queues they
    consume and which data sets they have (:mod:`service.services.workers`).
    """

    CACHE_S = 10.0  # /readyz is polled every few seconds: do not broadcast each time

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._seen: tuple[float, dict[str, list[str]]] | None = None

    def send(self, queue: str, payload: dict[str, Any]) -> None:
        self.app.send_task(TASK, kwargs=payload, queue=queue, retry=False)

    def check_bundle(self, bundle_id: int) -> None:
        """Strength-check an uploaded bundle on a worker (:func:`bundles.start_check`)."""
        queue = self.app.conf.task_routes[BUNDLE_TASK]["queue"]
        self.app.send_task(BUNDLE_TASK, kwargs={"bundle_id": bundle_id}, queue=queue,
                           retry=False)

    def consumers(self) -> dict[str, list[str]]:
        if self._seen is not None and time.monotonic() - self._seen[0] < self.CACHE_S:
            return self._seen[1]
        out: dict[str, list[str]] = {q.name: [] for q in self.app.conf.task_queues}
        try:
            replies = self.app.control.inspect(timeout=INSPECT_TIMEOUT_S).active_queues() or {}
        except Exception as exc:  # the broker is down: /readyz reports Redis itself
            log.warning("could not ask the workers for their queues: %s", exc)
            replies = {}
        for worker, queues in replies.items():
            for q in queues or []:
                out.setdefault(q.get("name", ""), []).append(worker)
        self._seen = (time.monotonic(), out)
        return out

    def missing_datasets(self, names: Sequence[str]) -> dict[str, list[str]]:
        # Only workers of this deployment: a shared Redis may carry other deployments' (or
        # another test's) workers, whose disks say nothing about ours.
        consumers = self.consumers()
        ours = sorted({w for q in self.app.conf.task_queues for w in consumers.get(q.name, [])})
        if not ours:
            return {}
        try:
            replies = self.app.control.broadcast(
                DATASETS_COMMAND, arguments={"names": list(names)}, reply=True,
                destination=ours, timeout=INSPECT_TIMEOUT_S) or []
        except Exception as exc:
            log.warning("could not ask the workers for their data sets: %s", exc)
            return {}
        return {worker: list(answer.get("missing", [])) for reply in replies
                for worker, answer in reply.items() if isinstance(answer, dict)}


@control_command(args=[("names", list)], signature="names")  # type: ignore[misc]
def dlgrade_datasets(state: Any, names: list[str] | None = None) -> dict[str, list[str]]:
    """Worker side of :meth:`CeleryBroker.missing_datasets`: what this machine lacks."""
    return {"missing": missing_locally(names or [])}


def create_celery(settings: Settings, ctx: Context | None = None) -> Celery:
    """A Celery app for these settings; tasks build their context lazily, once per process."""
    app = Celery("dlgrade", broker=settings.redis_url, set_as_current=False)
    app.conf.update(celery_config(settings))
    state: dict[int, Context] = {}

    def context() -> Context:
        if ctx is not None:
            return ctx
        pid = os.getpid()
        if pid not in state:  # never share a connection pool across fork
            state.clear()
            state[pid] = build_context(settings, broker=CeleryBroker(app))
        return state[pid]

    @app.task(name=TASK, bind=True, shared=False)
    def grade(self: Any, submission_id: int, part: str = "all") -> str:
        worker = f"{self.request.hostname or socket.gethostname()}:{os.getpid()}"
        return process_job(context(), submission_id, part, worker_id=worker)

    # Not bound by the grading time limit: the check stops itself at bundle_check_seconds.
    @app.task(name=BUNDLE_TASK, shared=False,
              time_limit=max(settings.longest_grading_seconds,
                             int(settings.bundle_check_seconds) + 300))
    def check_bundle(bundle_id: int) -> None:
        run_check(context(), bundle_id)

    app.dlgrade_context = context  # type: ignore[attr-defined]
    return app


def _explain_root() -> None:
    """Celery warns against running as root; a grading worker must, so say why instead.

    Root is what lets each sandbox get its own uid and cgroup; student code itself
    never runs as root. Celery refuses root outright only for pickle messages, which
    ``accept_content`` never allows, so only its warning is silenced.
    """
    if os.geteuid() != 0:
        return
    warnings.filterwarnings("ignore", category=SecurityWarning,
                            message="You're running the worker with superuser privileges")
    log.info("running as root, as grading requires: each sandbox is started with its own "
             "unprivileged uid and its own cgroup, which only root can give; student code "
             "never runs as root, and this worker accepts only JSON messages")


def run_worker(settings: Settings, queues: list[str] | None = None, concurrency: int = 1,
               sweep: bool = True) -> None:
    """``dlgrade worker``: consume the queues; the main process also runs the sweep."""
    from service.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    _explain_root()
    app = create_celery(settings)
    sweeper: list[Sweeper] = []

    def on_ready(sender: Any = None, **_: Any) -> None:
        if sweep and not sweeper:
            s = Sweeper(app.dlgrade_context(), settings.sweep_interval_seconds)  # type: ignore[attr-defined]
            s.start()
            sweeper.append(s)

    signals.worker_ready.connect(on_ready, weak=False)
    names = queues or ["grading", "training", "regrade"]
    argv = ["worker", "--loglevel", settings.log_level, "--concurrency", str(concurrency),
            "--queues", ",".join(settings.queue(q) for q in names),
            "--hostname", f"dlgrade-{'-'.join(names)}@{socket.gethostname()}",
            "--without-gossip", "--without-mingle"]
    app.worker_main(argv)
