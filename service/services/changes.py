"""'Submission N changed', from whoever grades it to the requests waiting on it.

The live pages and the long poll used to find a new result by re-reading the
database every 0.25-0.5 s, so a result reached the student up to half a second
after it was committed. Workers now announce each commit: to waiters in their own
process directly (embedded mode), and over Redis pub/sub to the API processes
when there is a Redis. Waiters still re-read on their old timer, so a message
lost (Redis restarting, a full buffer) delays an answer to that timer, never
loses it. A message carries only a submission id; the answer is always read from
the database, with the reader's own access checks, so a forged message can at
most cause one extra read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

log = logging.getLogger(__name__)

MAX_MESSAGE = 20  # an id, as decimal text


class Changes:
    """One per process and deployment: announces changes and wakes the local waiters."""

    def __init__(self, redis_url: str | None = None, channel: str = "dlgrade.changes",
                 enabled: bool = True) -> None:
        self.redis_url, self.channel, self.enabled = redis_url, channel, enabled
        self._lock = threading.Lock()
        self._waiters: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._publisher: Any = None
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def announce(self, submission_id: int) -> None:
        """After a commit that changed what a submission's reader sees; never raises."""
        if not self.enabled:
            return
        self.wake(submission_id)
        if not self.redis_url:
            return
        try:
            if self._publisher is None:
                import redis

                self._publisher = redis.Redis.from_url(
                    self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._publisher.publish(self.channel, str(submission_id))
        except Exception as exc:  # the waiters' timer still finds the change
            log.warning("could not announce a change of submission %s: %s", submission_id, exc)
            self._publisher = None

    def wake(self, submission_id: int) -> None:
        with self._lock:
            waiting = list(self._waiters.get(submission_id, ()))
        for loop, event in waiting:
            with suppress(RuntimeError):  # that request's loop has closed
                loop.call_soon_threadsafe(event.set)

    @contextmanager
    def watch(self, submission_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever the submission changes; clear it before each read."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(submission_id, []).append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiting = self._waiters.get(submission_id, [])
                if entry in waiting:
                    waiting.remove(entry)
                if not waiting:
                    self._waiters.pop(submission_id, None)

    def waiting(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._waiters.values())

    def listen(self) -> None:
        """Start the API process's one subscriber (a thread), if there is a Redis."""
        if not (self.enabled and self.redis_url) or self._listener is not None:
            return
        self._stop.clear()
        self._listener = threading.Thread(target=self._listen, name="dlgrade-changes",
                                          daemon=True)
        self._listener.start()

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
            self._listener = None

    def _listen(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url or "", socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._received(message.get("data"))
                pubsub.close()
                client.close()
            except Exception as exc:
                log.warning("change announcements unavailable (%s); waiters poll", exc)
                self._stop.wait(1.0)

    def _received(self, data: object) -> None:
        if isinstance(data, bytes) and 0 < len(data) <= MAX_MESSAGE and data.isdigit():
            self.wake(int(data))


# A waiter reads at most this often however fast announcements come: anyone who can
# reach Redis could publish ids in a loop, and every read takes a pool thread.
MIN_READ_GAP_S = 0.05


async def until_changed(event: asyncio.Event, timeout: float) -> None:
    """Wait for an announcement, or the fallback timer, whichever comes first; called
    right after a read, it never returns sooner than MIN_READ_GAP_S after it."""
    timeout = max(timeout, 0.0)
    started = time.monotonic()
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=timeout)
    rest = min(MIN_READ_GAP_S, timeout) - (time.monotonic() - started)
    if rest > 0:
        await asyncio.sleep(rest)
