"""Redis restarted with a queue of tasks, while workers grade and students upload.

``tests/service/test_svc_processes.py`` restarts Redis around single uploads
with no worker connected. Here two workers stay up through the restart (they
must reconnect on their own), dozens of messages are queued or in flight
when Redis loses them all, and uploads keep arriving while it is down (they
wait in the outbox). The sweep re-sends what was lost; every accepted
submission ends graded exactly once, and no upload was refused.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis

from bench.service_throughput import audit, upload_burst, wait_all_final

from .reliability_support import FULL_MARKS, PrivateRedis, StackFactory, graded_lines, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_redis_restart_with_tasks_queued_loses_no_submission(
        make_stack: StackFactory, private_redis: PrivateRedis, tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"FAKE_GRADER_SLEEP": "0.1", "FAKE_GRADER_LOG": str(log)})
    stack.start_api()
    for _ in range(2):
        stack.start_worker()
    r = redis.Redis.from_url(private_redis.url)
    queue = f"{stack.prefix}.grading"
    queued_at_restart: list[int] = []
    restarted = threading.Event()

    def back_up() -> None:
        private_redis.start()
        restarted.set()

    def fault(answered: int) -> None:
        if answered == 40:  # most of the burst is waiting in Redis by now
            queued_at_restart.append(int(r.llen(queue)))
            private_redis.kill()
            threading.Timer(2.0, back_up).start()

    uploads = upload_burst(stack, 60, 6, FULL_MARKS, rate=30, during=fault)
    assert restarted.wait(30)
    accepted = [u.submission_id for u in uploads if u.submission_id is not None]
    assert [u.status for u in uploads] == [201] * 60  # Redis down refuses nothing
    wait_all_final(stack, accepted, timeout=180)
    result = audit(stack, accepted, log)  # no worker died: no problem may run twice
    assert result.ok, result
    assert all(w.poll() is None for w in stack.workers)  # both reconnected by themselves
    assert queued_at_restart[0] > 0
    report("Redis killed and restarted after 2 s during a burst of 60",
           accepted=len(accepted), messages_lost_in_queue=queued_at_restart[0],
           graded_once=result.graded_once, lost=len(result.lost), twice=len(result.twice),
           problem_gradings=len(graded_lines(log)))
