"""PostgreSQL stopped and started again during a burst of uploads, with workers grading.

While the database is down the API answers every upload with 503
``database_unavailable`` (nothing is kept) and the students' clients retry;
workers lose their connections mid-grade and the jobs they held come back
through the lease and the sweep. In the end every upload was answered, every
accepted submission is graded exactly once, and nothing was half-kept.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.service_throughput import audit, upload_burst, wait_all_final

from .reliability_support import FULL_MARKS, PrivatePostgres, StackFactory, graded_lines, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_postgres_restart_during_a_burst(make_stack: StackFactory, private_pg: PrivatePostgres,
                                         tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"FAKE_GRADER_SLEEP": "0.1", "FAKE_GRADER_LOG": str(log)})
    stack.start_api()
    for _ in range(2):
        stack.start_worker()
    down: list[float] = []
    restarted = threading.Event()

    def crash_and_restart() -> None:
        down.append(time.time())
        private_pg.stop("immediate")  # a crash: recovery from the WAL on the next start
        time.sleep(2.0)
        private_pg.start()
        down.append(time.time())
        restarted.set()

    def fault(answered: int) -> None:
        if answered == 20:
            threading.Thread(target=crash_and_restart, daemon=True).start()

    attempts = upload_burst(stack, 60, 6, FULL_MARKS, rate=10, during=fault, retry_errors=True)
    assert restarted.wait(60)
    statuses = Counter(u.status for u in attempts)
    assert all(u.status is not None for u in attempts), [u.error for u in attempts]
    assert set(statuses) <= {201, 503}, statuses  # refused with a reason, never a 500
    refused = [u for u in attempts if u.status == 503]
    assert refused  # the outage was met, and overlapped every refusal
    assert all(u.started + u.latency_s >= down[0] and u.started <= down[1] + 1 for u in refused)
    accepted = [u.submission_id for u in attempts if u.submission_id is not None]
    assert len(accepted) == 60  # the clients' retries got every upload in
    wait_all_final(stack, accepted, timeout=180)
    # allow_extra: a submission committed just before the crash whose answer was lost
    # must be graded exactly once as well (it is reported as unexpected)
    result = audit(stack, accepted, log, allow_extra=True, require_engine_once=False)
    assert result.ok, result
    on_disk = {p.parent.name for p in (stack.workdir / "state" / "submissions").glob("*/*/*")}
    assert len(on_disk) == result.accepted  # refused uploads left no files behind
    report("PostgreSQL crashed and restarted after 2 s during a burst of 60",
           attempts=len(attempts), refused_503=len(refused), accepted=len(accepted),
           graded_once=result.graded_once, lost=len(result.lost), twice=len(result.twice),
           committed_but_answered_with_error=len(result.unexpected),
           problem_gradings=len(graded_lines(log)))
