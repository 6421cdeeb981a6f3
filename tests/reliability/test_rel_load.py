"""Load: a burst of 500 uploads from concurrent clients, graded by the real engine.

The API and two Celery workers as processes, on the private PostgreSQL and
Redis; 25 students upload radboud-dl-a1 (its ten layer problems, sandboxed)
at 10 uploads a second. Figures: accepted, graded, lost (0), graded twice
(0), p50 and p95 upload latency. The workers run with the warm pool off
(``DLGRADE_WARM_SANDBOXES=0``): with it on, a burst drains several times
slower (see docs/reliability.md and ``python -m bench --only service``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.service_throughput import (
    LAYER_GRADER,
    SLUG,
    SUBMISSION,
    audit,
    percentile,
    upload_burst,
    wait_all_final,
)

from .reliability_support import StackFactory, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
N, CLIENTS, RATE = 500, 25, 10.0


def test_burst_of_500_uploads_all_graded_exactly_once(make_stack: StackFactory,
                                                      tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(grader=LAYER_GRADER, slug=SLUG, students=CLIENTS,
                       env={"DLGRADE_BENCH_GRADE_LOG": str(log), "DLGRADE_WARM_SANDBOXES": "0",
                            "DLGRADE_RESEND_AFTER_SECONDS": "300", "DLGRADE_LEASE_SECONDS": "60",
                            "DLGRADE_SWEEP_INTERVAL_SECONDS": "15"})  # the service's defaults
    stack.start_api()
    for _ in range(2):
        stack.start_worker()
    uploads = upload_burst(stack, N, CLIENTS, SUBMISSION.read_bytes(), rate=RATE)
    answered = Counter(u.status for u in uploads)
    accepted = [u.submission_id for u in uploads if u.submission_id is not None]
    wait_all_final(stack, accepted, timeout=600)
    result = audit(stack, accepted, log)
    lat = sorted(u.latency_s * 1000 for u in uploads if u.status == 201)
    t0 = uploads[0].started
    minutes = (result.last_finished - t0) / 60
    report(f"load: {N} uploads from {CLIENTS} clients at {RATE:g}/s, 2 workers",
           accepted=len(accepted), refused=sum(v for k, v in answered.items() if k != 201),
           graded=result.graded_once, lost=len(result.lost) + len(result.errors),
           duplicates=len(result.twice), incomplete=len(result.incomplete),
           p50_ms=round(percentile(lat, 50), 1), p95_ms=round(percentile(lat, 95), 1),
           max_ms=round(lat[-1], 1), graded_per_min=round(result.graded_once / minutes, 1),
           drained_s=round(minutes * 60, 1))
    assert answered == {201: N}, answered
    assert result.graded_once == N
    assert not result.lost and not result.errors and not result.twice and not result.incomplete
    assert result.engine_runs == N * 10  # each of the ten problems graded once per upload
    assert percentile(lat, 95) < 2000  # a guard against a stalled API, not the 100 ms target
