"""Every realistic single bug loses the problems it belongs to, and no other.

The corpus is ``bugs.py``: the student-style package with one edit each,
zipped as ``nndl/`` and graded for real in the sandbox with a seed of its
own. Each lost problem's first message must point at the bug.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from graders.engine import grade

from .bugs import BUGS, Bug
from .support import POOL

KEPT = ("passed", "skipped", "manual")


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_bug_loses_exactly_its_problems_with_a_message_that_points_at_it(
        bug: Bug, tmp_path: Path, no_data: Path) -> None:
    archive = tmp_path / "nndl.zip"
    archive.write_bytes(bug.zip_bytes())
    result = grade("ucla-c247-hw3", [archive], seed=zlib.crc32(bug.name.encode()),
                   pool=POOL)
    lost = {p.id: p for p in result.problems if p.status not in KEPT}
    assert set(lost) == set(bug.loses), {k: p.message for k, p in lost.items()}
    for problem_id, says in bug.loses.items():
        assert says.lower() in lost[problem_id].message.lower(), lost[problem_id].message
        assert lost[problem_id].score < lost[problem_id].max_score
    if bug.warns:
        messages = [c.message for p in result.problems for c in p.checks]
        assert any(bug.warns in m and m.startswith("Warning") for m in messages)


def test_every_graded_problem_has_at_least_three_bugs() -> None:
    counts: dict[str, int] = {}
    for bug in BUGS:
        first = next(iter(bug.loses), None)
        if first is not None:
            counts[first] = counts.get(first, 0) + 1
    graded = {"neural_net.scores", "neural_net.loss", "neural_net.grads",
              "neural_net.train_predict", "layers.affine_forward", "layers.affine_backward",
              "layers.relu_forward", "layers.relu_backward", "fc_net.TwoLayerNet",
              "fc_net.FullyConnectedNet"}
    assert {p: counts.get(p, 0) for p in graded if counts.get(p, 0) < 3} == {}
