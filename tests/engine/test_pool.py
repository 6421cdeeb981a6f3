"""Started sandboxes (the pool without a fork server, as for imports that start threads):
ready before the submission arrives, used once, then destroyed."""

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
    pool = WarmPool(size=1, fork=False)
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
    pool = WarmPool(size=1, fork=False)
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
    pool = WarmPool(size=2, fork=False)
    pool.acquire(Limits()).close()
    _wait_ready(pool, 2)
    procs = [p for q in pool._ready.values() for p in q]
    pool.close()
    assert procs and not any(p.alive for p in procs)


def test_pooled_sandboxes_wait_at_low_priority_and_work_at_normal_priority():
    pool = WarmPool(size=1, fork=False)
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


# Loads as radboud-dl-a1; sigmoid is right only in a sandbox that nothing used before (no
# file left in /tmp), relu only if scipy.optimize was imported before this code ran.
SPY_WARM = (
    "import os, sys\n"
    "import numpy as np\n"
    "WARM = 'scipy.optimize' in sys.modules\n"
    "SEEN = os.path.exists('/tmp/left-behind')\n"
    "open('/tmp/left-behind', 'w').write('x')\n"
    "import scipy.optimize\n"
    "def sigmoid(x):\n"
    "    return -np.ones_like(x) if SEEN else 1 / (1 + np.exp(-x))\n"
    "def relu(x):\n"
    "    return np.maximum(x, 0) if WARM else -x\n")


def _status(result, problem):
    return next(p.status for p in result.problems if p.id == problem)


def test_imports_seen_twice_are_warmed_for_the_next_upload_which_shares_nothing(tmp_path):
    spy = tmp_path / "spy.py"
    spy.write_text(SPY_WARM)
    pool = WarmPool(size=1, fork=False)
    try:
        statuses = []
        for round_ in range(4):
            if round_ >= 2:
                _wait_ready(pool, 2)  # the plain sandbox and the learned kind
            r = grade("radboud-dl-a1", [spy], problems=["sigmoid", "relu"], pool=pool)
            statuses.append((_status(r, "sigmoid"), _status(r, "relu")))
        assert statuses == [("passed", "failed")] * 2 + [("passed", "passed")] * 2
    finally:
        pool.close()


def test_a_sandbox_warmed_with_more_than_an_upload_imports_is_not_handed_to_it(tmp_path):
    """torch or scikit-learn loaded would take memory the submission's limit is for."""
    pool = WarmPool(size=1, fork=False)
    try:
        for _ in range(2):
            pool.acquire(Limits(), extra=("scipy.optimize",)).close()
        _wait_ready(pool, 2)
        warmed = [p for k, q in pool._ready.items() if k[2] for p in q]
        plain = pool.acquire(Limits())
        try:
            assert plain not in warmed
            assert [k[2] for k, q in pool._ready.items() if q] == [("scipy.optimize",)]
        finally:
            plain.close()
    finally:
        pool.close()


def test_many_different_import_sets_cannot_make_a_worker_hold_many_sandboxes():
    pool = WarmPool(size=1, fork=False)
    try:
        for i in range(12):  # an attacker cycling import sets, each asked for twice
            for _ in range(2):
                pool.acquire(Limits(), extra=(f"scipy.m{i}",)).close()
        time.sleep(3)
        learned = [k for k in pool._wanted if k[2]]
        assert len(learned) <= 3
        assert sum(len(q) for q in pool._ready.values()) <= 1 + 3
    finally:
        pool.close()


def test_adaptive_off_warms_nothing_learned():
    pool = WarmPool(size=1, adaptive=False, fork=False)
    try:
        for _ in range(3):
            pool.acquire(Limits(), extra=("scipy.optimize",)).close()
        assert [k[2] for k in pool._wanted] == [()]
    finally:
        pool.close()
