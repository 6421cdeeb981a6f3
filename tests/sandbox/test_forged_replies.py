"""Replies a submission shapes to make the trusted side allocate far more than it sent.

Both attacks fit every limit the sandbox has (message size, memory cgroup);
the damage would be done outside it, in the grading process, by decoding or
widening. Each must cost the submission its problem and nothing more.
"""

from __future__ import annotations

from sandbox_support import MiB, adversarial, assert_grader_healthy, grade_file


def test_references_that_repeat_one_region_are_refused_not_copied():
    """200 references to one 8 MB region: 1.6 GB decoded in the grader before the fix."""
    run = grade_file(adversarial("forge_overlapping_refs.py"), trace_memory=True)

    sigmoid = run["sigmoid"]
    assert sigmoid.score == 0.0
    assert "malformed reply" in sigmoid.message and "regions must follow each other" in (
        sigmoid.message), sigmoid.message
    assert run.traced_peak < 64 * MiB, f"the grader took {run.traced_peak / MiB:.0f} MB"
    assert_grader_healthy()


def test_optimize_f_answering_with_200_mb_of_bools_is_refused_before_widening():
    run = grade_file(adversarial("optimize_f_returns_big_bools.py"), "optimize_f",
                     trace_memory=True)

    result = run["optimize_f"]
    assert result.score == 0.0
    assert "x: expected a single number, got an array of shape (209715200,)" in (
        result.message), result.message
    # The 200 MB frame as read, and its one decoded copy; widened it was 1.8 GB.
    assert run.traced_peak < 600 * MiB, f"the grader took {run.traced_peak / MiB:.0f} MB"
    assert_grader_healthy()
