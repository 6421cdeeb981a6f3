"""The disk holding submissions fills up during a burst, then gets room again.

The submissions directory is a small tmpfs of its own (root mounts it). The
API answers uploads that do not fit with 507 ``storage_full`` and keeps
nothing of them (no half-written file, no row); the workers keep grading
what was accepted; once there is room again uploads are accepted again.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.service_throughput import audit, upload_burst, wait_all_final

from .reliability_support import FULL_MARKS, StackFactory, graded_lines, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
UPLOAD = FULL_MARKS + b"#" * (24 * 1024)  # 24 KiB (+1 page on tmpfs): a few fit in 512 KiB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "submissions"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _stored(root: Path) -> dict[str, int]:
    """Storage dir → bytes, for every file under the submissions dir."""
    out: Counter[str] = Counter()
    for p in root.rglob("*"):
        if p.is_file():
            out[p.parent.name] += p.stat().st_size
    return dict(out)


def test_full_submissions_disk_refuses_with_507_and_keeps_nothing(
        make_stack: StackFactory, small_disk: Path, tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"DLGRADE_SUBMISSIONS_PATH": str(small_disk),
                            "FAKE_GRADER_LOG": str(log)})
    stack.start_api()
    stack.start_worker()
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (256 * 1024))  # half the disk is taken already
    first = upload_burst(stack, 24, 4, UPLOAD, rate=20)
    statuses = Counter(u.status for u in first)
    assert set(statuses) == {201, 507}, statuses  # some fitted, the rest were refused
    assert all(u.error and "storage_full" in u.error for u in first if u.status == 507)
    filler.unlink()  # an operator makes room
    second = upload_burst(stack, 8, 4, UPLOAD, rate=20)
    assert [u.status for u in second] == [201] * 8
    accepted = [u.submission_id for u in first + second if u.submission_id is not None]
    wait_all_final(stack, accepted, timeout=120)
    result = audit(stack, accepted, log)
    assert result.ok and not result.unexpected, result  # refused ones have no row
    stored = _stored(small_disk)
    assert len(stored) == len(accepted)  # and no file, not even half of one
    assert set(stored.values()) == {len(UPLOAD)}
    report("submissions disk full (512 KiB tmpfs) during a burst of 24, then room again",
           accepted_before=statuses[201], refused_507=statuses[507],
           accepted_after=len(second), graded_once=result.graded_once,
           lost=len(result.lost), twice=len(result.twice),
           problem_gradings=len(graded_lines(log)))
