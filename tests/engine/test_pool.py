"""Warm sandboxes: ready before the submission arrives, used once, then destroyed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from graders.engine import grade
from graders.sandbox import Limits
from graders.sandbox.pool import WarmPool

SUBMISSIONS = Path(__file__).parents[1] / "assignments" / "radboud_dl_a1" / "submissions"


def _wait_ready(pool: WarmPool, n: int = 1, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sum(len(q) for q in pool._ready.values()) >= n:
            return
        time.sleep(0.02)
    raise AssertionError("the pool never filled")


def test_a_pooled_sandbox_is_handed_out_already_started():
    pool = WarmPool(size=1)
    try:
        pool.acquire(Limits()).close()  # first call starts one and refills in the background
        _wait_ready(pool)
        t = time.perf_counter()
        proc = pool.acquire(Limits())
        took = time.perf_counter() - t
        try:
            assert proc.alive and took < 0.05, took
            assert proc.request({"op": "ping"}, 5)["pong"]
        finally:
            proc.close()
    finally:
        pool.close()


def test_each_sandbox_serves_one_submission_and_leaves_nothing_for_the_next(tmp_path):
    spy = tmp_path / "spy.py"
    spy.write_text(
        "import os\n"
        "import numpy as np\n"
        "SEEN = os.path.exists('/tmp/left-behind')  # runs once, when this submission loads\n"
        "open('/tmp/left-behind', 'w').write(str(os.getpid()))\n"
        "def sigmoid(x):\n"
        "    return -np.ones_like(x) if SEEN else 1 / (1 + np.exp(-x))\n")
    pool = WarmPool(size=1)
    try:
        for round_ in range(3):
            if round_:
                _wait_ready(pool)
            result = grade("radboud-dl-a1", [spy], problems=["sigmoid"], pool=pool)
            # A file written by the previous submission would make sigmoid wrong.
            assert result.problems[0].status == "passed", result.problems[0].message
    finally:
        pool.close()


def test_closing_the_pool_stops_its_sandboxes():
    pool = WarmPool(size=2)
    pool.acquire(Limits()).close()
    _wait_ready(pool, 2)
    procs = [p for q in pool._ready.values() for p in q]
    pool.close()
    assert procs and not any(p.alive for p in procs)


def test_pooled_sandboxes_wait_at_low_priority_and_work_at_normal_priority():
    pool = WarmPool(size=1)
    try:
        pool.acquire(Limits()).close()
        _wait_ready(pool)
        waiting = next(p for q in pool._ready.values() for p in q)
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in waiting._pids()} == {10}
        proc = pool.acquire(Limits())
        try:
            assert proc is waiting
            assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in proc._pids()} == {0}
        finally:
            proc.close()
    finally:
        pool.close()
