"""nyu-dl-hw1 graded for real, in the sandbox: the example notebook, the corpus, the training runs.

Notebooks of one part are graded on that part's problems (students often hand
in one notebook per part); ``submissions/manifest.json`` says what each file
must lose and what the message must say. Without data sets the training
problems are skipped with the fetch command; with small synthetic sets in the
official IDX format they run end to end and land on the ramp.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from graders.assignments import registry
from graders.engine import grade
from graders.results import Grade
from graders.sandbox.process import HarnessProcess

from .synthetic import Synthetic, write_synthetic

SUBMISSIONS = Path(__file__).parent / "submissions"
MANIFEST = json.loads((SUBMISSIONS / "manifest.json").read_text())
EXAMPLE = Path(__file__).resolve().parents[3].parent / "shared/examples/nyu-dl-hw1-student.ipynb"
PARTS = {
    "numpy": ["mnist_numpy.init", "mnist_numpy.feed_forward_sample",
              "mnist_numpy.train_one_sample", "mnist_numpy.accuracy"],
    "torch": ["fashion_mlp.architecture", "fashion_mlp.accuracy"],
}
PARTS["both"] = [p.id for p in registry.get("nyu-dl-hw1").problems]
TRAINING = {"mnist_numpy.accuracy": "mnist", "fashion_mlp.accuracy": "fashion-mnist"}


def _grade(paths: list[Path], problems: list[str] | None = None, seed: int = 0) -> Grade:
    return grade("nyu-dl-hw1", paths, seed=seed, problems=problems)


def _example() -> Path:
    if not EXAMPLE.exists():
        pytest.skip(f"example notebook not found at {EXAMPLE} (shared/ beside the repository)")
    return EXAMPLE


def _messages(result: Grade) -> dict[str, str]:
    return {p.id: p.message for p in result.problems if p.status not in ("passed", "manual")}


def _assert_graded_without_data(result: Grade, lost: set[str]) -> None:
    """Exactly ``lost`` is lost; training problems are skipped with the fetch command."""
    by_status: dict[str, set[str]] = {}
    for p in result.problems:
        by_status.setdefault(p.status, set()).add(p.id)
    graded = {p.id for p in result.problems}
    assert by_status.get("skipped", set()) == graded & set(TRAINING), _messages(result)
    for p in result.problems:
        if p.id in TRAINING:
            assert f"dlgrade datasets fetch {TRAINING[p.id]}" in p.message
    failing = graded - by_status.get("passed", set()) - by_status.get("skipped", set()) \
        - by_status.get("manual", set())
    assert failing == lost, _messages(result)


# -- the example notebook, and the corpus ----------------------------------------------------

def test_the_example_notebook_gets_every_point_that_needs_no_data_set(no_data: Path) -> None:
    result = _grade([_example()])
    _assert_graded_without_data(result, lost=set())
    assert [p.id for p in result.problems if p.status == "manual"] == [
        "written.l1_regression", "written.expressivity", "written.initialization",
        "written.softmax_jacobian"]
    assert result.score == 12 and result.max_score == 19
    # The top-level training cells fail at once (torchvision is a stand-in): no statement
    # ran into its time budget, and grading takes seconds, not minutes.
    assert not any("time budget" in line for line in result.load_log), result.load_log
    assert result.duration_s < 30


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_submission_loses_exactly_the_problems_of_its_bug(name: str, no_data: Path
                                                                ) -> None:
    entry = MANIFEST[name]
    result = _grade([SUBMISSIONS / name], PARTS[entry["part"]], seed=zlib.crc32(name.encode()))
    _assert_graded_without_data(result, lost=set(entry["loses"]))
    for pid in entry["loses"]:
        message = next(p.message for p in result.problems if p.id == pid)
        assert entry["says"] in message, message


def test_one_notebook_per_part_grades_as_one_submission(no_data: Path) -> None:
    result = _grade([SUBMISSIONS / "torch_correct_functional_relu.ipynb",
                     SUBMISSIONS / "numpy_correct_normalise_inside.ipynb"])
    _assert_graded_without_data(result, lost=set())


def test_weights_are_restored_between_problems_in_the_notebooks_container(no_data: Path
                                                                           ) -> None:
    # This notebook keeps weights in object arrays and updates them in place; init runs last
    # and still sees the initialisation (zero biases) after the other problems' steps.
    order = ["mnist_numpy.train_one_sample", "mnist_numpy.feed_forward_sample",
             "mnist_numpy.train_one_sample", "mnist_numpy.init"]
    result = _grade([SUBMISSIONS / "numpy_correct_normalise_inside.ipynb"], order)
    assert [p.status for p in result.problems] == ["passed"] * 4, _messages(result)


def test_the_same_seed_gives_the_same_results(no_data: Path) -> None:
    path = SUBMISSIONS / "numpy_bug_dsigmoid_of_activation.ipynb"
    first = _grade([path], PARTS["numpy"], seed=7).to_json()
    second = _grade([path], PARTS["numpy"], seed=7).to_json()
    first.pop("duration_s")
    second.pop("duration_s")
    assert first == second


# -- training problems on synthetic data ---------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The example graded once on learnable sets whose test labels are 40 % shifted.

    Every message sent into the sandbox is kept, to look for the test labels.
    """
    root = tmp_path_factory.mktemp("data")
    sets = {name: write_synthetic(root / name, n_train=3000, n_test=500, seed=seed,
                                  wrong_test_labels=0.4)
            for name, seed in (("mnist", 1), ("fashion-mnist", 2))}
    sent: list[dict[str, Any]] = []
    original = HarnessProcess.request

    def recording(self: HarnessProcess, message: dict[str, Any], timeout: float,
                  **kwargs: Any) -> dict[str, Any]:
        sent.append(message)
        return original(self, message, timeout, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLGRADE_DATA_DIR", str(root))
        mp.setattr(HarnessProcess, "request", recording)
        result = _grade([_example()], seed=11)
    yield {"result": result, "sets": sets, "sent": sent}


def _arrays(value: Any) -> Iterator[np.ndarray]:
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _arrays(v)


@pytest.mark.parametrize(("pid", "dataset", "full_at"), [
    ("mnist_numpy.accuracy", "mnist", 0.70),
    ("fashion_mlp.accuracy", "fashion-mnist", 0.85),
])
def test_training_runs_in_the_sandbox_and_scores_on_the_ramp(
        trained: dict[str, Any], pid: str, dataset: str, full_at: float) -> None:
    problem = next(p for p in trained["result"].problems if p.id == pid)
    synthetic: Synthetic = trained["sets"][dataset]
    # The sets are easy: the model learns every clean label, so its accuracy is the share of
    # unshifted test labels, a point in the middle of the ramp.
    expected = (synthetic.best_accuracy - 0.10) / (full_at - 0.10) * problem.max_score
    assert problem.status == "partial", problem.message
    assert problem.score == pytest.approx(expected, abs=0.03 * problem.max_score), problem.message
    assert f"test accuracy {synthetic.best_accuracy:.3f}" in problem.message


def test_the_other_problems_are_unaffected_by_the_data(trained: dict[str, Any]) -> None:
    others = [p for p in trained["result"].problems if p.id not in TRAINING and not p.manual]
    assert all(p.status == "passed" for p in others), _messages(trained["result"])


def test_test_labels_and_fashion_test_images_never_enter_the_sandbox(
        trained: dict[str, Any]) -> None:
    assert trained["sent"]
    for name, synthetic in trained["sets"].items():
        for message in trained["sent"]:
            for array in _arrays(message):
                assert not (array.shape == synthetic.y_test.shape
                            and np.array_equal(array, synthetic.y_test)), name
    # Nor do the Fashion-MNIST test images: the grader predicts them itself.
    fashion_x = trained["sets"]["fashion-mnist"].x_test
    assert not any(a.dtype == np.uint8 and fashion_x[0].tobytes() in a.tobytes()
                   for m in trained["sent"] for a in _arrays(m))
    # ...while the training labels do go in (the notebook and the grader's loop need them).
    mnist_y = trained["sets"]["mnist"].y_train
    assert any(np.array_equal(a, mnist_y) for m in trained["sent"] for a in _arrays(m)
               if a.shape == mnist_y.shape)


def test_a_training_run_out_of_time_says_how_far_it_got(data_root: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    write_synthetic(data_root / "mnist", n_train=200, n_test=50, seed=3)
    notebook = json.loads((SUBMISSIONS / "numpy_correct_in_out.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if "def train_one_epoch" in source:
            cell["source"] = source.replace(
                '    print("Finished training.")',
                '    print("Finished training.")\n    global epochs_done\n'
                '    epochs_done = globals().get("epochs_done", 0) + 1\n'
                '    if epochs_done == 2:\n        import time\n        time.sleep(60)')
    slow = tmp_path / "slow.ipynb"
    slow.write_text(json.dumps(notebook))
    monkeypatch.setattr(registry.get("nyu-dl-hw1").get("mnist_numpy.accuracy"), "timeout_s", 3)
    (problem,) = _grade([slow], ["mnist_numpy.accuracy"]).problems
    assert problem.status == "error"
    assert "Stopped after" in problem.message
    assert "Training had reached epoch 1/3" in problem.message


def test_replacing_the_courses_tracer_from_the_submission_earns_nothing(
        tmp_path: Path, no_data: Path) -> None:
    """The submission imports the course's tracer first and rebinds it to report the
    handout's layers; the grader imports the course's module afresh and traces for real."""
    fake = tmp_path / "fake_trace.py"
    fake.write_text(
        "import fashion_training\n"
        "LAYERS = [['Linear', 784, 256], ['ReLU', None, None], ['Linear', 256, 128],\n"
        "          ['ReLU', None, None], ['Linear', 128, 64], ['ReLU', None, None],\n"
        "          ['Linear', 64, 10]]\n"
        "def fake(student, *, batch, seed):\n"
        "    return {'model': 'Net', 'layers': LAYERS, 'input_shape': [batch, 784],\n"
        "            'output_shape': [batch, 10], 'output_type': 'Tensor'}\n"
        "fashion_training.trace_model = fake\n")
    result = _grade([fake], ["fashion_mlp.architecture"])
    (arch,) = result.problems
    assert arch.score == 0 and "No model found" in arch.message, arch.message


def test_float32_parameters_with_the_right_update_keep_their_points(
        tmp_path: Path, no_data: Path) -> None:
    """float32 rounding through a whole pass is ~1e-4: elementwise 1e-6 failed right code."""
    nb = nbformat.read(SUBMISSIONS / "numpy_correct_in_out.ipynb", as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace(
            "size=(n_in, n_out)))", "size=(n_in, n_out)).astype(np.float32))").replace(
            "biases.append(np.zeros(n_out))", "biases.append(np.zeros(n_out, np.float32))")
    single = tmp_path / "float32.ipynb"
    nbformat.write(nb, single)
    result = _grade([single], ["mnist_numpy.train_one_sample"], seed=4)
    (step,) = result.problems
    assert step.score == step.max_score, step.message
    assert "float32 parameters" in step.checks[0].message


def test_probes_pass_rows_when_the_loading_cell_reshaped_x_train(
        tmp_path: Path, no_data: Path) -> None:
    """The notebook's loop passes x_train[i]: after reshape(-1, 784), a row, not an image."""
    nb = nbformat.read(SUBMISSIONS / "numpy_correct_in_out.ipynb", as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("a = sample.flatten()", "a = sample")
    nb.cells.insert(1, nbformat.v4.new_code_cell("x_train = x_train.reshape(-1, 784)\n"
                                                 "x_test = x_test.reshape(-1, 784)"))
    rows = tmp_path / "rows.ipynb"
    nbformat.write(nb, rows)
    result = _grade([rows], ["mnist_numpy.feed_forward_sample",
                             "mnist_numpy.train_one_sample"], seed=6)
    assert [(p.id, p.score, p.max_score) for p in result.problems] == [
        ("mnist_numpy.feed_forward_sample", 3, 3), ("mnist_numpy.train_one_sample", 5, 5)], \
        _messages(result)


# -- predictions the sandbox could steer --------------------------------------------------------

# A model that learns nothing (its output is multiplied by 0), answering the grader's own
# prediction call with the public test labels, in the order the test images were sent.
FASHION_CHEAT = '''
import sys
import torch
from torch import nn

KNOWN = torch.tensor({labels})
answered = [0]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(784, 256), nn.Linear(256, 128)
        self.c, self.d = nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        out = self.d(torch.relu(self.c(torch.relu(self.b(torch.relu(self.a(x))))))) * 0.0
        frame = sys._getframe(1)  # the grader's own call, not its probe of the input shape
        while frame is not None and frame.f_code.co_name not in (
                "_run", "train_and_predict", "train_and_export"):
            frame = frame.f_back
        if frame is None or frame.f_code.co_name == "_run" or self.training:
            return out
        start = answered[0]
        answered[0] += x.shape[0]
        return nn.functional.one_hot(KNOWN[start:start + x.shape[0]], 10).float()
'''

# weights that read the class off pixels 0-9, and an x_test that lights the label's pixel.
MNIST_CHEAT = '''
import numpy as np

weights = [np.zeros((784, 32)), np.zeros((32, 32)), np.zeros((32, 10))]
biases = [np.full(32, -5.0), np.full(32, -5.0), np.zeros(10)]
for k in range(10):
    weights[0][k, k] = weights[1][k, k] = weights[2][k, k] = 10.0

x_test = np.zeros((len(x_test), 784))
x_test[np.arange(len(x_test)), np.array({labels})] = 1.0


def train_one_epoch(learning_rate=0.003):
    pass
'''


@pytest.mark.parametrize(("pid", "dataset", "cheat"), [
    ("fashion_mlp.accuracy", "fashion-mnist", FASHION_CHEAT),
    ("mnist_numpy.accuracy", "mnist", MNIST_CHEAT),
], ids=["fashion", "mnist"])
def test_public_test_labels_earn_nothing_without_learning(
        data_root: Path, tmp_path: Path, pid: str, dataset: str, cheat: str) -> None:
    """Fashion: the model answered the grader's prediction call in the sandbox with the
    labels; MNIST: the notebook's own x_test was scored, so it could encode them. Each
    earned full marks; predictions are now made here, from the trained weights, on the
    grader's own test images."""
    synthetic = write_synthetic(data_root / dataset, n_train=300, n_test=200, seed=4)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        cheat.format(labels=[int(v) for v in synthetic.y_test]))]
    path = tmp_path / "cheat.ipynb"
    nbformat.write(notebook, path)

    [problem] = _grade([path], [pid], seed=12).problems

    assert problem.status in ("failed", "error") and problem.score == 0, problem.message
    says = {"mnist": "the grader's 200 test images", "fashion-mnist": "do not give its outputs"}
    assert says[dataset] in problem.message, problem.message


@pytest.mark.parametrize("name", sorted(n for n, e in MANIFEST.items()
                                        if e["part"] in ("torch", "both")))
def test_every_model_of_the_corpus_is_replayed_for_its_accuracy(
        data_root: Path, name: str) -> None:
    """The grader predicts from the trained layers: every model the corpus holds (functional
    ReLUs, dropout, a top-level Sequential, a final softmax, a missing ReLU) must replay."""
    write_synthetic(data_root / "fashion-mnist", n_train=300, n_test=100, seed=5)
    [problem] = _grade([SUBMISSIONS / name], ["fashion_mlp.accuracy"], seed=13).problems
    [check] = problem.checks
    if check.name == "the model":  # no single model to train (the locator's own verdict)
        assert "Several models" in check.message, check.message
        return
    assert problem.status == "passed", check.message
    assert "trained layers replayed by the grader" in check.message, check.message
