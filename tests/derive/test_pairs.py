"""A CS231n pair declared as two problems: each bug costs the problem it belongs to.

The reference is the example bundle's (``examples/bundles/layers-hw``); each submission
is the correct one with one bug planted, graded in the real sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.bundles import Registry
from graders.engine import grade
from graders.spec import Assignment

REPO = Path(__file__).resolve().parents[2]
CORRECT = (Path(__file__).parent / "submissions" / "layers_correct.py").read_text()
FORWARD, BACKWARD = "affine_forward", "affine_backward"


@pytest.fixture(scope="module")
def pairs() -> Assignment:
    reference = Registry.from_paths([REPO / "examples" / "bundles"]).get("demo-layers").reference
    hw = Assignment("pairs-demo", "A pair graded as two problems", reference=reference)
    hw.layer("affine", points=(1, 2), grads="dx, dw, db", cache=lambda x, w, b: (x, w, b),
             warn_dout=True, hints={"db": "The handout sums db over the batch."},
             x=("N", "D"), w=("D", "M"), b=("M",))
    return hw


def _grade(hw: Assignment, old: str, new: str, tmp_path: Path) -> dict[str, object]:
    assert old in CORRECT, old
    path = tmp_path / "layers.py"
    path.write_text(CORRECT.replace(old, new))
    return {p.id: p for p in grade(hw, [path], seed=77).problems}


def test_the_correct_pair_earns_both_problems_with_the_declared_check_counts(pairs, tmp_path):
    graded = _grade(pairs, "", "", tmp_path)
    for spec in pairs.problems:
        result = graded[spec.id]
        assert result.score == spec.points, [c.message for c in result.checks if not c.ok]
        assert len(result.checks) == spec.checks


@pytest.mark.parametrize(("old", "new", "loses", "says"), [
    ("dot(w) + b", "dot(w)", FORWARD, "affine_forward(x, w, b)"),
    # A forward that raises: the backward runs on the handout's cache.
    ("out = x.reshape", "raise ValueError('no'); out = x.reshape", FORWARD, "raised"),
    ("np.sum(dout, axis=0)", "np.mean(dout, axis=0)", BACKWARD, "sums db over the batch"),
    ("x.reshape(x.shape[0], -1).T.dot(dout)", "dout.T.dot(x.reshape(x.shape[0], -1))",
     BACKWARD, "wrong shape"),
])
def test_a_bug_costs_only_its_own_problem(pairs, tmp_path, old, new, loses, says):
    graded = _grade(pairs, old, new, tmp_path)
    lost = {pid for pid, p in graded.items() if p.score < p.max_score}
    assert lost == {loses}, {pid: graded[pid].message for pid in lost}
    assert says in graded[loses].message, graded[loses].message


def test_a_backward_that_writes_into_dout_only_gets_a_warning(pairs, tmp_path):
    ret = "    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), "
    graded = _grade(pairs, ret, "    g = dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], "
                    "-1).T.dot(dout), np.sum(dout, axis=0)\n    dout[...] = 0\n    return g\n"
                    "    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T"
                    ".dot(dout), ", tmp_path)
    backward = graded[BACKWARD]
    assert backward.score == backward.max_score, backward.message
    assert any(c.message.startswith("Warning") and "modified dout in place" in c.message
               for c in backward.checks)


def test_a_product_of_dimensions_is_the_flattened_size():
    import numpy as np

    from graders.derive.inputs import Arg, draw, draw_dims, symbols

    args = {"x": Arg(("N", "D1", "D2")), "w": Arg(("D1*D2", "M"))}
    assert symbols(args) == ["N", "D1", "D2", "M"]
    dims = draw_dims(symbols(args), np.random.default_rng(0))
    x, w = draw(args, dims, np.random.default_rng(1)).values()
    assert x.shape == (dims["N"], dims["D1"], dims["D2"])
    assert w.shape == (dims["D1"] * dims["D2"], dims["M"])


def _graded_with_cache(hw: Assignment, extra: int, tmp_path: Path) -> tuple[dict, int]:
    """The pair graded with ``extra`` bools added to the forward's cache, and the grader's
    peak of traced memory."""
    import tracemalloc

    path = tmp_path / "layers.py"
    path.write_text(CORRECT.replace("return out, (x, w, b)", "return out, (x, w, b, "
                                    f"np.zeros({extra}, dtype=bool))")
                    .replace("x, w, b = cache", "x, w, b = cache[:3]"))
    tracemalloc.start()
    try:
        graded = {p.id: p for p in grade(hw, [path], seed=77).problems}
        return graded, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("extra", "refused"), [(80_000_000, True), (4_000_000, False)],
                         ids=["forged", "large but allowed"])
def test_a_huge_cache_of_bools_costs_the_grader_about_its_own_size(pairs, tmp_path, extra,
                                                                    refused):
    """The student's cache went back to them and was compared after the call widened to
    float64: 250 MB of bools became 2 GB in the grader. Past the bound it is refused; below
    it, it costs the grader a few times its size (sent, read back, compared a block at a
    time)."""
    from graders.derive.pairs import MAX_CACHE_ENTRIES

    assert (extra > MAX_CACHE_ENTRIES) is refused
    _, baseline = _graded_with_cache(pairs, 1, tmp_path)
    graded, peak = _graded_with_cache(pairs, extra, tmp_path)
    forward, backward = graded[FORWARD], graded[BACKWARD]
    assert forward.score == forward.max_score, forward.message
    if refused:
        assert backward.score == 0
        assert any(f"returned a cache of {extra // 10**6},000," in c.message
                   for c in backward.checks), backward.checks
    else:
        assert backward.score == backward.max_score, backward.message
    assert peak - baseline < 4 * extra, (peak, baseline)
