"""The CIFAR-10 problems end to end on a synthetic set in the official format.

Training runs in the sandbox (the student's ``train``, or the course's
``Solver``); the trained parameters come back, the grader predicts on test
images it draws for the run with the reference forward pass, and scores the
accuracy with the course's ramp, clip((acc - 0.28) / 0.22, 0, 1). Runs are kept short with
``hyperparams.json``; the handout's full settings run in a slow test.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graders.assignments import registry
from graders.engine import grade
from graders.engine.session import Session
from graders.harness.wire import Tag
from graders.results import ProblemResult

from .bugs import TRAINING_BUGS, Bug
from .support import POOL, reference_sources, write_files, write_zip
from .synthetic import write_synthetic_cifar

SLUG = "ucla-c247-hw3"
CIFAR = ["neural_net.cifar10", "fc_net.cifar10"]
SHORT: dict[str, dict[str, object]] = {"neural_net": {"num_iters": 60},
                                        "fc_net": {"num_epochs": 2}}


def short_reference(tmp_path: Path, **extra: Any) -> Path:
    import json

    files: dict[str, str | bytes] = {f"nndl/{k}": v for k, v in reference_sources().items()}
    files["hyperparams.json"] = json.dumps({**SHORT, **extra})
    return write_zip(tmp_path / "nndl.zip", files)


def accuracy(problem: ProblemResult) -> float:
    found = re.search(r"test accuracy (\d\.\d+)", problem.checks[0].message)
    assert found, problem.checks[0].message
    return float(found.group(1))


def on_the_ramp(problem: ProblemResult) -> float:
    """The course's credit for the accuracy the message reports (to its 3 decimals)."""
    return problem.max_score * min(1.0, max(0.0, (accuracy(problem) - 0.28) / 0.22))


def test_reference_trains_in_the_sandbox_and_is_scored_on_the_ramp(
        tmp_path: Path, synthetic_data: dict) -> None:
    result = grade(SLUG, [short_reference(tmp_path)], seed=31, problems=CIFAR, pool=POOL)
    for problem in result.problems:
        assert problem.score == pytest.approx(on_the_ramp(problem), abs=0.05)
        assert problem.score > 0, problem.message
        assert "Trained on 588 images" in problem.checks[0].message
        assert "from hyperparams.json" in problem.checks[0].message
    assert result.problems[1].status == "passed"  # the Solver run learns the synthetic set


def test_labels_the_images_do_not_predict_score_zero(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write_synthetic_cifar(tmp_path / "data", learnable=False)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "data"))
    result = grade(SLUG, [short_reference(tmp_path)], seed=32, problems=CIFAR, pool=POOL)
    for problem in result.problems:
        assert accuracy(problem) < 0.28
        assert (problem.status, problem.score) == ("failed", 0), problem.message
        assert "0% of the points (full at ≥ 0.50, none at ≤ 0.28)" in problem.message


def test_test_images_and_labels_never_enter_the_sandbox(tmp_path: Path, synthetic_data: dict,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    sent: list[np.ndarray] = []
    request = Session.request

    def recording(self: Session, message: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sent.extend(arrays(message))
        return request(self, message, *args, **kwargs)

    monkeypatch.setattr(Session, "request", recording)
    grade(SLUG, [short_reference(tmp_path)], seed=33, problems=CIFAR, pool=POOL)
    y_test = synthetic_data["y_test"]
    x_test = synthetic_data["x_test"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    images = [x.tobytes() for x in x_test[:20]]
    assert not any(a.dtype == np.uint8 and a.size >= 3072 and any(
        img in a.tobytes() for img in images) for a in sent)
    assert not any(a.size >= 20 and contains(y_test, a.ravel()) for a in sent)
    assert any(a.dtype == np.uint8 and a.shape[1:] == x_test.shape[1:] for a in sent)  # training


# Appended to the reference's files: training that learns nothing, and the public test labels
# (here the synthetic set's, in the order the first 1,000 test images come) answered whenever
# the call stack shows the grader's scoring call.
HARD_CODED_LABELS = """
import sys as _sys

_KNOWN = np.array({labels})


def _scoring():
    caller = _sys._getframe(2)  # who called predict or loss, past the grader's step counter
    while caller.f_code.co_name in ("counted", "<listcomp>"):  # and a comprehension
        caller = caller.f_back
    return caller.f_code.co_name in ("train_neural_net", "train_fc_net")
"""
NN_ATTACK = """
def _train(self, X, y, X_val, y_val, **settings):
    return {"loss_history": [], "train_acc_history": [], "val_acc_history": []}


_predict = TwoLayerNet.predict
TwoLayerNet.train = _train
TwoLayerNet.predict = lambda self, X: _KNOWN.copy() if _scoring() else _predict(self, X)
"""
FC_ATTACK = """
_loss = TwoLayerNet.loss
_answered = [0]  # the grader scores in chunks of 100 images, in order


def _fake_loss(self, X, y=None):
    if y is None and _scoring():
        start = _answered[0]
        _answered[0] += len(X)
        return np.eye(10)[_KNOWN[start:start + len(X)]]
    if y is None:
        return _loss(self, X)
    loss, grads = _loss(self, X, y)
    return loss, {k: np.zeros_like(v) for k, v in grads.items()}


TwoLayerNet.loss = _fake_loss
"""


@pytest.mark.parametrize("problem_id", CIFAR)
def test_a_net_that_learns_nothing_earns_nothing_with_the_public_test_labels(
        problem_id: str, tmp_path: Path, synthetic_data: dict) -> None:
    """The test labels are public; a submission that answers the scoring call with them
    earned 8 of 8 when predictions were made in the sandbox on the first 1,000 test images.
    Now the returned parameters are scored here, on test images drawn for the run."""
    import json

    files: dict[str, str | bytes] = {f"nndl/{k}": v for k, v in reference_sources().items()}
    stem = problem_id.split(".")[0]
    cheat = HARD_CODED_LABELS.format(labels=synthetic_data["y_test"][:1000].tolist())
    files[f"nndl/{stem}.py"] += cheat + (NN_ATTACK if stem == "neural_net" else FC_ATTACK)
    files["hyperparams.json"] = json.dumps(SHORT)
    archive = write_zip(tmp_path / "nndl.zip", files)

    [problem] = grade(SLUG, [archive], seed=36, problems=[problem_id], pool=POOL).problems

    assert (problem.status, problem.score) == ("failed", 0), problem.message
    assert accuracy(problem) < 0.28
    assert "test images drawn for this run" in problem.message


def test_each_run_draws_its_own_test_images(synthetic_data: dict) -> None:
    from graders.assignments.ucla_c247_hw3.data import cifar_split
    from graders.datasets import load

    data = load("cifar-10")
    first, again, other = (cifar_split(data, np.random.default_rng(s)) for s in (1, 1, 2))
    assert np.array_equal(first.y_test, again.y_test)  # a rerun scores the same images
    assert not np.array_equal(first.x_test, other.x_test)
    assert sorted(first.y_test.tolist()) == sorted(synthetic_data["y_test"].tolist())


def arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, Tag):
        return arrays(value.value)
    if isinstance(value, dict):
        return [a for v in value.values() for a in arrays(v)]
    if isinstance(value, list | tuple):
        return [a for v in value for a in arrays(v)]
    return []


def contains(labels: np.ndarray, values: np.ndarray) -> bool:
    """Whether a run of 20 test labels appears in ``values`` (a copy sent under any shape)."""
    probe = labels[:20]
    windows = np.lib.stride_tricks.sliding_window_view(values, probe.size)
    return bool(np.any(np.all(windows == probe, axis=1)))


def _training_cases() -> list[Any]:
    """One bug per training problem in the default run; the others are marked slow."""
    seen: set[str] = set()
    cases = []
    for bug in TRAINING_BUGS:
        [problem_id] = bug.loses
        marks = [pytest.mark.slow] if problem_id in seen else []
        seen.add(problem_id)
        cases.append(pytest.param(bug, id=bug.name, marks=marks))
    return cases


@pytest.mark.parametrize("bug", _training_cases())
def test_training_bug_loses_its_cifar_problem(bug: Bug, tmp_path: Path,
                                              synthetic_data: dict) -> None:
    archive = tmp_path / "nndl.zip"
    archive.write_bytes(bug.zip_bytes(SHORT))
    [problem_id] = bug.loses
    result = grade(SLUG, [archive], seed=zlib.crc32(bug.name.encode()), problems=[problem_id],
                   pool=POOL)
    [problem] = result.problems
    assert problem.status in ("failed", "error") and problem.score == 0, problem.message
    assert bug.loses[problem_id] in problem.message


def test_a_run_over_its_budget_says_how_far_it_got(tmp_path: Path, synthetic_data: dict,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = registry.get(SLUG).get("neural_net.cifar10")
    monkeypatch.setattr(spec, "timeout_s", 3.0)
    archive = short_reference(tmp_path, neural_net={"num_iters": 20000})
    [problem] = grade(SLUG, [archive], seed=34, problems=["neural_net.cifar10"],
                      pool=POOL).problems
    assert (problem.status, problem.score) == ("error", 0)
    assert "Stopped after" in problem.message
    assert "The time budget of neural_net.cifar10 is 3 s." in problem.message
    # How far depends on the machine's speed; the counting itself is tested in
    # test_sandbox_code.py.
    assert re.search(r"Training had reached iteration \d+ of 20000\.", problem.message)


@pytest.mark.slow
def test_the_handouts_settings_run_in_full(tmp_path: Path, synthetic_data: dict) -> None:
    paths = write_files(tmp_path / "upload", reference_sources())
    result = grade(SLUG, paths, seed=35, problems=CIFAR, pool=POOL)
    for problem in result.problems:
        assert problem.status == "passed", problem.message
        assert "the handout's settings" in problem.checks[0].message
