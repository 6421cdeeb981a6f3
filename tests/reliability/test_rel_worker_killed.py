"""Workers killed mid-grade during a burst: every accepted submission is graded once.

``tests/service/test_svc_processes.py`` kills the only worker while it grades
one submission and starts another. These tests complement it under load:
the Celery pool process is killed while the worker's main process survives
(``task_reject_on_worker_lost`` puts the message back; the lease keeps a
second grading from committing), and a whole worker dies for good while
another keeps going (its unacknowledged message stays with Redis until the
visibility timeout, hours away: the sweep's lease expiry re-queues the job).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.service_throughput import ServiceStack, audit, children, upload_burst, wait_all_final
from service.models import GradingJob

from .reliability_support import FULL_MARKS, StackFactory, graded_lines, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _running_in(stack: ServiceStack, pid: int) -> bool:
    """A job whose lease belongs to process ``pid`` is mid-grade right now."""
    with stack.session() as s:
        owners = s.scalars(select(GradingJob.lease_owner)
                           .where(GradingJob.status == "running")).all()
    return any(o and o.endswith(f":{pid}") for o in owners)


def _kill_mid_grade(stack: ServiceStack, worker_pid: int, done: set[int],
                    timeout: float = 60) -> int:
    """SIGKILL the pool process of a worker at a moment it holds a job's lease.

    ``done`` are pool processes killed before: their leases stay in the database
    until they expire, and until the worker reaps them they are still its children.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children(worker_pid):
            if child not in done and _running_in(stack, child):
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:  # it ended between the look and the kill
                    continue
                done.add(child)
                return child
        time.sleep(0.05)
    raise TimeoutError("no worker process was ever seen mid-grade")


def _tries(stack: ServiceStack) -> int:
    with stack.session() as s:
        return int(s.scalar(select(func.max(GradingJob.tries))) or 0)


def test_pool_process_killed_three_times_during_a_burst(make_stack: StackFactory,
                                                        tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"FAKE_GRADER_SLEEP": "0.15", "FAKE_GRADER_LOG": str(log)})
    stack.start_api()
    victim = stack.start_worker()
    stack.start_worker()
    uploads = upload_burst(stack, 40, 8, FULL_MARKS, rate=20)
    accepted = [u.submission_id for u in uploads if u.submission_id is not None]
    assert len(accepted) == 40, [u.error for u in uploads if u.status != 201]
    killed: set[int] = set()
    for _ in range(3):
        _kill_mid_grade(stack, victim.pid, killed)
    wait_all_final(stack, accepted, timeout=180)
    result = audit(stack, accepted, log, require_engine_once=False)
    assert result.ok, result
    assert victim.poll() is None  # the main process survived and forked new pool processes
    assert _tries(stack) >= 2  # a killed grading was claimed again
    runs = len(graded_lines(log))
    report("pool process killed x3 during a burst of 40", accepted=len(accepted),
           graded_once=result.graded_once, lost=len(result.lost), twice=len(result.twice),
           killed=len(killed), problem_gradings=runs, graded_again_after_a_kill=runs - 40 * 4)


def test_worker_killed_for_good_during_a_burst_the_other_finishes(
        make_stack: StackFactory, tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"FAKE_GRADER_SLEEP": "0.15", "FAKE_GRADER_LOG": str(log)})
    stack.start_api()
    doomed = stack.start_worker()
    stack.start_worker()
    uploads = upload_burst(stack, 30, 6, FULL_MARKS, rate=20)
    accepted = [u.submission_id for u in uploads if u.submission_id is not None]
    assert len(accepted) == 30
    deadline = time.monotonic() + 60
    while not any(_running_in(stack, c) for c in children(doomed.pid)):
        assert time.monotonic() < deadline, "the doomed worker never took a job"
        time.sleep(0.05)
    os.killpg(doomed.pid, signal.SIGKILL)  # main process and pool: the whole worker
    doomed.wait(10)
    stack.workers.remove(doomed)
    wait_all_final(stack, accepted, timeout=180)
    result = audit(stack, accepted, log, require_engine_once=False)
    assert result.ok, result
    assert _tries(stack) >= 2
    report("whole worker killed during a burst of 30", accepted=len(accepted),
           graded_once=result.graded_once, lost=len(result.lost), twice=len(result.twice),
           problem_gradings=len(graded_lines(log)))
