"""Admission to the upload check.

A refused upload uses no attempt and sets no interval (a broken notebook should
cost the student nothing), and reading a large one takes a child process of up
to 10 s of CPU and 1 GB. Without a gate one account could keep those children
busy for ever, in parallel or in a loop. So, per API process: one upload of a
student is checked at a time, only ``concurrency`` uploads are checked at once,
and a student whose uploads were refused ``refusals`` times within ``window_s``
waits before the next is read.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from graders.errors import ReadingFailed, SubmissionError
from service.services.errors import Busy, TooSoon


@dataclass
class IntakeGate:
    concurrency: int
    refusals: int
    window_s: float
    wait_s: float
    clock: Callable[[], float] = time.monotonic
    _slots: threading.BoundedSemaphore = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _checking: set[int] = field(default_factory=set, init=False, repr=False)
    _refused: dict[int, deque[float]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(max(1, self.concurrency))

    @contextmanager
    def admit(self, user_id: int) -> Iterator[None]:
        """Around storing and checking one upload; raises ``TooSoon`` or ``Busy`` instead."""
        with self._lock:
            self._refuse_if_refused_too_often(user_id)
            if user_id in self._checking:
                raise TooSoon("your previous upload is still being checked; wait for its "
                              "answer, then upload again", code="upload_in_progress",
                              headers={"Retry-After": "5"})
            self._checking.add(user_id)
        try:
            if not self._slots.acquire(timeout=self.wait_s):
                raise Busy("the grader is checking many uploads right now; nothing was kept, "
                           "try again in a minute", code="intake_busy",
                           headers={"Retry-After": "30"})
            try:
                yield
            except (SubmissionError, ReadingFailed):  # a reader that timed out cost as much
                self._note_refusal(user_id)
                raise
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._checking.discard(user_id)

    def _recent(self, user_id: int) -> deque[float]:
        """Refusals inside the window; forgets the rest (and users with none) as it goes."""
        cutoff = self.clock() - self.window_s
        for uid in [uid for uid, times in self._refused.items() if times[-1] <= cutoff]:
            del self._refused[uid]
        times = self._refused.get(user_id, deque())
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def _refuse_if_refused_too_often(self, user_id: int) -> None:
        times = self._recent(user_id)
        if len(times) >= self.refusals:
            wait = math.ceil(times[0] + self.window_s - self.clock())
            raise TooSoon(f"your last {len(times)} uploads were refused; read why, fix the "
                          f"files, and upload again in {wait} s", code="too_many_refused",
                          headers={"Retry-After": str(wait)})

    def _note_refusal(self, user_id: int) -> None:
        with self._lock:
            self._refused.setdefault(user_id, deque(maxlen=self.refusals)).append(self.clock())
