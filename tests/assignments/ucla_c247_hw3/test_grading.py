"""Grading ucla-c247-hw3 for real, in the sandbox: the forms a submission takes, and their limits.

The CIFAR-10 problems are skipped here (an empty data directory); they have
their own tests on a synthetic set in ``test_training.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders.assignments import registry
from graders.engine import grade
from graders.results import Grade

from .support import GRADED, POOL, reference_sources, student_sources, write_files, write_zip

SLUG = "ucla-c247-hw3"
AUTOGRADED = 31.0
CIFAR = {"neural_net.cifar10", "fc_net.cifar10"}
NEURAL_NET = {"neural_net.scores", "neural_net.loss", "neural_net.grads",
              "neural_net.train_predict"}
LAYERS = {"layers.affine_forward", "layers.affine_backward", "layers.relu_forward",
          "layers.relu_backward"}
FC_NET = {"fc_net.TwoLayerNet", "fc_net.FullyConnectedNet"}


def statuses(result: Grade) -> dict[str, str]:
    return {p.id: p.status for p in result.problems}


def assert_full_marks_without_data(result: Grade) -> None:
    """Every problem that needs no data set passes; CIFAR-10 is skipped, the math is manual."""
    expected = {p: "passed" for p in NEURAL_NET | LAYERS | FC_NET}
    expected |= {p: "skipped" for p in CIFAR} | {"written.matrix_calculus": "manual"}
    failures = {p.id: p.message for p in result.problems if p.status != expected[p.id]}
    assert not failures
    assert result.score == result.max_score - 8 == AUTOGRADED - 8


def test_problem_ids_and_points_follow_the_contract() -> None:
    from graders.assignments import registry

    spec = registry.get(SLUG)
    points = {p.id: p.points for p in spec.problems}
    assert points == {
        "neural_net.scores": 2, "neural_net.loss": 2, "neural_net.grads": 4,
        "neural_net.train_predict": 2, "neural_net.cifar10": 5,
        "layers.affine_forward": 1, "layers.affine_backward": 2, "layers.relu_forward": 1,
        "layers.relu_backward": 1, "fc_net.TwoLayerNet": 4, "fc_net.FullyConnectedNet": 4,
        "fc_net.cifar10": 3, "written.matrix_calculus": 10,
    }
    assert spec.max_score == AUTOGRADED
    assert spec.get("written.matrix_calculus").manual
    assert {p.id for p in spec.problems if p.dataset == "cifar-10" and p.training} == CIFAR


def test_reference_as_a_zip_of_nndl_gets_full_marks(tmp_path: Path, no_data: Path) -> None:
    archive = write_zip(tmp_path / "nndl.zip",
                        {f"nndl/{k}": v for k, v in reference_sources().items()})
    result = grade(SLUG, [archive], seed=11, pool=POOL)
    assert_full_marks_without_data(result)
    # A problem that stops early is padded to its declared number of checks, so the
    # declaration must match what a complete run yields.
    declared = {p.id: p.checks for p in registry.get(SLUG).problems if p.checks is not None}
    ran = {p.id: len(p.checks) for p in result.problems if p.id in declared
           and p.status == "passed"}
    assert ran == {k: declared[k] for k in ran}


def test_reference_as_three_separate_files_gets_full_marks(tmp_path: Path,
                                                            no_data: Path) -> None:
    paths = write_files(tmp_path / "upload", reference_sources())
    assert [p.name for p in paths] == list(GRADED)
    assert_full_marks_without_data(grade(SLUG, paths, seed=12, pool=POOL))


def test_student_style_package_in_a_parent_folder_gets_full_marks(tmp_path: Path,
                                                                   no_data: Path) -> None:
    # CS231n-style code (two-space indents, `from .layers import *`, the handout's own
    # softmax_loss left in layers.py), zipped with the homework folder around nndl/.
    archive = write_zip(tmp_path / "hw3.zip",
                        {f"hw3/nndl/{k}": v for k, v in student_sources().items()})
    assert_full_marks_without_data(grade(SLUG, [archive], seed=13, pool=POOL))


def test_the_course_softmax_loss_and_layer_utils_replace_the_students(tmp_path: Path,
                                                                      no_data: Path) -> None:
    files = student_sources()
    files["layers.py"] += ("\n\ndef softmax_loss(x, y):\n"
                           "  return 0.0, 0 * x  # edited: would make every gradient zero\n")
    broken_utils = ("def affine_relu_forward(x, w, b):\n  raise RuntimeError('mine')\n\n"
                    "def affine_relu_backward(dout, cache):\n  raise RuntimeError('mine')\n")
    archive = write_zip(tmp_path / "nndl.zip",
                        {**{f"nndl/{k}": v for k, v in files.items()},
                         "nndl/layer_utils.py": broken_utils,
                         "utils/solver.py": "raise SystemExit('not the course solver')\n"})
    assert_full_marks_without_data(grade(SLUG, [archive], seed=14, pool=POOL))


def test_missing_fc_net_fails_only_the_fc_net_problems_and_names_the_file(
        tmp_path: Path, no_data: Path) -> None:
    files = reference_sources()
    del files["fc_net.py"]
    result = grade(SLUG, write_files(tmp_path / "upload", files), seed=15, pool=POOL)
    got = statuses(result)
    assert {p for p, s in got.items() if s == "failed"} == FC_NET
    assert all(got[p] == "passed" for p in NEURAL_NET | LAYERS)
    for problem in result.problems:
        if problem.id in FC_NET:
            assert "Not found: nndl/fc_net.py is not in the submission" in problem.message
            assert "fc_net.py itself" in problem.message


def test_missing_layers_fails_layers_and_fc_net_and_says_why(tmp_path: Path,
                                                             no_data: Path) -> None:
    files = student_sources()
    del files["layers.py"]
    result = grade(SLUG, write_files(tmp_path / "upload", files), seed=16, pool=POOL)
    got = statuses(result)
    assert all(got[p] == "failed" for p in LAYERS)
    assert all(got[p] == "passed" for p in NEURAL_NET)
    by_id = {p.id: p for p in result.problems}
    assert "Not found: nndl/layers.py" in by_id["layers.relu_forward"].message
    for problem in FC_NET:  # the initialisation checks need no layer: partial credit
        assert got[problem] == "partial"
        assert "nndl/layers.py, which is not in the submission" in by_id[problem].message


def test_only_neural_net_still_grades_its_own_problems(tmp_path: Path, no_data: Path) -> None:
    only = {"neural_net.py": reference_sources()["neural_net.py"]}
    paths = write_files(tmp_path / "upload", only)
    got = statuses(grade(SLUG, paths, seed=17, pool=POOL))
    assert all(got[p] == "passed" for p in NEURAL_NET)
    assert all(got[p] == "failed" for p in LAYERS | FC_NET)


def test_a_class_missing_from_its_file_is_named(tmp_path: Path, no_data: Path) -> None:
    files = reference_sources()
    files["fc_net.py"] = files["fc_net.py"].replace("class FullyConnectedNet",
                                                    "class FullyConnectedNetwork")
    result = grade(SLUG, write_files(tmp_path / "upload", files), seed=18, pool=POOL,
                   problems=["fc_net.FullyConnectedNet", "fc_net.TwoLayerNet"])
    assert statuses(result) == {"fc_net.FullyConnectedNet": "failed",
                                "fc_net.TwoLayerNet": "passed"}
    assert result.problems[0].message == ("Not found: FullyConnectedNet in nndl/fc_net.py.")


def test_the_same_seed_gives_the_same_result(tmp_path: Path, no_data: Path) -> None:
    archive = write_zip(tmp_path / "nndl.zip",
                        {f"nndl/{k}": v for k, v in student_sources().items()})
    first, second = (grade(SLUG, [archive], seed=19, pool=POOL).to_json() for _ in range(2))
    first.pop("duration_s")
    second.pop("duration_s")
    assert first == second


def test_cli_grades_a_zip_and_prints_one_json_object(tmp_path: Path, no_data: Path) -> None:
    archive = write_zip(tmp_path / "nndl.zip",
                        {f"nndl/{k}": v for k, v in reference_sources().items()})
    run = subprocess.run([sys.executable, "-m", "graders.cli", "grade", SLUG, str(archive),
                          "--json", "--seed", "7"], capture_output=True, text=True,
                         timeout=300, cwd=Path(__file__).parents[3])
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["assignment"] == SLUG and result["seed"] == 7
    assert result["max_score"] == AUTOGRADED and result["score"] == AUTOGRADED - 8
    statuses = {p["id"]: p["status"] for p in result["problems"]}
    assert statuses["written.matrix_calculus"] == "manual"
    assert statuses["fc_net.cifar10"] == "skipped"
    skipped = next(p for p in result["problems"] if p["id"] == "neural_net.cifar10")
    assert "dlgrade datasets fetch cifar-10" in skipped["checks"][-1]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [101, 202, 303])
def test_reference_passes_for_other_seeds(tmp_path: Path, no_data: Path, seed: int) -> None:
    # Inputs are redrawn per seed: a correct submission must never fail on a kink or rounding.
    paths = write_files(tmp_path / "upload", reference_sources())
    assert_full_marks_without_data(grade(SLUG, paths, seed=seed, pool=POOL))


def test_code_that_computes_nothing_earns_next_to_nothing(tmp_path: Path,
                                                          no_data: Path) -> None:
    """Zeros of the right shapes everywhere: properties of the outputs hold, no value does.

    Self-consistency checks (numerical gradients of the student's own constant loss,
    inputs left unchanged, predict = argmax of all-equal scores) earned 10.4 of 31.
    """
    stub = Path(__file__).parent / "submissions" / "stub" / "nndl"
    archive = write_zip(tmp_path / "nndl.zip",
                        {f"nndl/{p.name}": p.read_text() for p in stub.glob("*.py")})
    result = grade(SLUG, [archive], seed=3, pool=POOL)
    earned = {p.id: p.score for p in result.problems if p.score > 0}
    assert earned == {"neural_net.scores": 0.5}  # only TwoLayerNet's params are right
