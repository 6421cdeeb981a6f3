"""Problems declared in a few lines get the checks a hand-written spec has, state included.

The bundle is ``examples/bundles/layers-hw`` (ten problems, every check derived); each
submission below is the correct one with one bug planted, graded in the real sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.bundles import Registry
from graders.engine import grade

REPO = Path(__file__).resolve().parents[2]
CORRECT = (Path(__file__).parent / "submissions" / "layers_correct.py").read_text()


@pytest.fixture(scope="module")
def layers_hw() -> Registry:
    return Registry.from_paths([REPO / "examples" / "bundles"])


def _grade(registry: Registry, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           problems: list[str] | None = None) -> dict[str, object]:
    monkeypatch.setattr("graders.assignments.registry", registry)
    path = tmp_path / "layers.py"
    path.write_text(source)
    result = grade("demo-layers", [path], seed=1234, problems=problems)
    return {p.id: p for p in result.problems}


def _planted(old: str, new: str) -> str:
    assert old in CORRECT, old
    return CORRECT.replace(old, new)


def test_the_correct_submission_earns_every_derived_point_with_the_declared_check_counts(
        layers_hw: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    graded = _grade(layers_hw, CORRECT, tmp_path, monkeypatch)
    spec = layers_hw.get("demo-layers")
    for p in spec.problems:
        if p.manual:
            continue
        result = graded[p.id]
        assert result.score == p.points, (p.id, [c.message for c in result.checks if not c.ok])
        assert len(result.checks) == p.checks, p.id


STATE_BUGS = {
    # A backward that accumulates: right the first time, wrong when called again.
    "backward called twice": (
        "Linear", "self.dW = self.x.T @ dy",
        "self.dW = getattr(self, 'dW', 0) + self.x.T @ dy", "Linear.backward called twice"),
    # State kept on the class, not the instance: a second layer overwrites the first's input.
    "a second instance": (
        "Linear", "self.x = x\n        return x @ self.W", "Linear.x = x\n        return x @ "
        "self.W", "Linear.backward on two Linear layers used in turn"),
    # The input of the first forward kept for good: backward after another forward is stale.
    "backward on another input": (
        "Linear", "self.x = x\n        return x @ self.W",
        "self.x = getattr(self, 'x', x)\n        return x @ self.W",
        "Linear.backward after a second Linear.forward"),
    # A cache in a global: the backward of an earlier forward sees the latest input.
    "an earlier forward's cache": (
        "relu", "def relu_backward(dout, cache):\n    dx = dout.copy(); dx[cache <= 0] = 0",
        "def relu_forward(x):\n    global LAST\n    LAST = x\n    return np.maximum(0, x), x\n"
        "def relu_backward(dout, cache):\n    dx = dout.copy(); dx[LAST <= 0] = 0",
        "relu_backward with the cache of an earlier relu_forward"),
    # Momentum that is not carried between steps: the first step is right, the next are not.
    "a second optimiser step": (
        "sgd_momentum", "    config['velocity'] = v\n", "",
        "sgd_momentum(w, dw, config), later steps"),
    # A step that keeps the first gradients it saw.
    "a second layer step": (
        "Linear", "self.W -= lr * self.dW",
        "self.first = getattr(self, 'first', self.dW)\n        self.W -= lr * self.first",
        "Linear.step(lr), step 2"),
}


@pytest.mark.parametrize("bug", list(STATE_BUGS))
def test_a_state_bug_is_caught_by_the_derived_checks(
        bug: str, layers_hw: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    problem, old, new, caught_by = STATE_BUGS[bug]
    graded = _grade(layers_hw, _planted(old, new), tmp_path, monkeypatch, [problem])
    result = graded[problem]
    failed = [c.name for c in result.checks if not c.ok]
    assert caught_by in failed, failed
    assert result.score < result.max_score


@pytest.mark.parametrize(("problem", "old", "new", "caught_by"), [
    ("affine", "np.sum(dout, axis=0)", "np.mean(dout, axis=0)", "affine_backward(dout, cache)"),
    ("affine", "x.reshape(x.shape[0], -1).T.dot(dout)", "dout.T.dot(x.reshape(x.shape[0], -1)).T"
     "[:, ::-1]", "affine_backward(dout, cache)"),
    ("softmax_loss", "return loss, dx / n", "return loss, dx",
     "softmax_loss(x, y) → dx"),
    ("svm_loss", "loss = m.sum() / n", "loss = m.sum()", "svm_loss(x, y) → loss"),
    ("tanh_grad", "1 - np.tanh(x) ** 2", "1 - np.tanh(x)", "tanh_grad(x)"),
    ("adam", "(1 - config['beta1'] ** config['t'])", "1", "adam(w, dw, config), step 1"),
])
def test_a_value_bug_loses_its_problem(problem: str, old: str, new: str, caught_by: str,
                                       layers_hw: Registry, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch):
    graded = _grade(layers_hw, _planted(old, new), tmp_path, monkeypatch, [problem])
    assert caught_by in [c.name for c in graded[problem].checks if not c.ok]


def test_a_backward_that_ignores_dout_earns_nothing_for_its_properties(
        layers_hw: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stub = _planted("def relu_backward(dout, cache):\n    dx = dout.copy(); dx[cache <= 0] = 0",
                    "def relu_backward(dout, cache):\n    dx = np.zeros_like(dout)")
    result = _grade(layers_hw, stub, tmp_path, monkeypatch, ["relu"])["relu"]
    assert result.score <= 0.25 * result.max_score, [(c.name, c.ok) for c in result.checks]


@pytest.mark.parametrize(("train", "message"), [
    ("def train_softmax(X, y, epochs=100, lr=0.5):\n"
     "    print('test accuracy: 0.99')\n"
     "    return {'W': np.zeros((X.shape[1], 3)), 'b': np.zeros(3)}\n", "test accuracy"),
    ("def train_softmax(X, y, epochs=100, lr=0.5):\n"
     "    return {'W': np.zeros((3, X.shape[1])), 'b': np.zeros(3)}\n",
     "do not fit the course's predict"),
    ("def train_softmax(X, y, epochs=100, lr=0.5):\n    return [0.99]\n", "a dict of arrays"),
])
def test_a_training_problem_scores_what_the_grader_predicts_from_the_returned_params(
        train: str, message: str, layers_hw: Registry, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    source = CORRECT[:CORRECT.index("def train_softmax")] + train
    result = _grade(layers_hw, source, tmp_path, monkeypatch, ["train_softmax"])["train_softmax"]
    assert result.score == 0
    assert message in result.message or any(message in c.message for c in result.checks)


def test_a_backward_that_ignores_its_input_for_a_cached_one_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``backward(x, dy)`` is given its input: one that uses the input the last forward kept
    is right whenever the two agree, so only a backward on an earlier input shows it."""
    source = (REPO / "tests/assignments/radboud_dl_a1/submissions/correct_clean.py").read_text()
    old = ("        return x @ self.W + self.b\n\n    def backward(self, x, dy):\n"
           "        # gradients for the parameters\n        self.dW = x.T @ dy")
    assert old in source
    path = tmp_path / "assignment1.py"
    path.write_text(source.replace(old, (
        "        self.x = x\n        return x @ self.W + self.b\n\n"
        "    def backward(self, x, dy):\n        self.dW = self.x.T @ dy")))
    [linear] = grade("radboud-dl-a1", [path], seed=1234, problems=["Linear"]).problems
    failed = [c for c in linear.checks if not c.ok]
    assert [c.name for c in failed] == ["Linear.backward after a second Linear.forward"]
    assert "Linear.backward(x, dy) with the input of an earlier Linear.forward" in \
        failed[0].message
    assert linear.score < linear.max_score
