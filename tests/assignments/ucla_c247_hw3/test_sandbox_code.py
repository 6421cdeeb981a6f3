"""The code this assignment runs in the sandbox: numpy and the standard library, nothing graded."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from graders.assignments.ucla_c247_hw3 import provided

SANDBOX_SIDE = ("probes.py", "training.py")
GRADED = {"affine_forward", "affine_backward", "relu_forward", "relu_backward", "TwoLayerNet",
          "FullyConnectedNet", "softmax_loss_naive"}
ALLOWED = {"__future__", "collections", "contextlib", "copy", "numpy", "sys", "typing", "utils"}


@pytest.mark.parametrize("name", SANDBOX_SIDE)
def test_sandbox_side_modules_import_only_numpy_stdlib_and_provided_code(name: str) -> None:
    tree = ast.parse((Path(provided.__file__).parent / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            assert node.name not in GRADED
        elif isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= ALLOWED
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] in ALLOWED



def test_training_steps_are_counted_on_stderr_for_the_timeout_message(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(Path(provided.__file__).parent))
    try:
        import training  # as the sandbox imports it: a top-level module beside utils/

        class Model:
            def loss(self, X: object, y: object = None) -> str:
                return "scores" if y is None else "loss"

        model = Model()
        training._count_training_calls(model, 1000, lambda k: f"iteration {k} of 1000")
        for _ in range(25):
            assert model.loss("X", "y") == "loss"
            assert model.loss("X") == "scores"  # predictions are not training steps
    finally:
        for name in set(sys.modules) - before:  # top-level `training`, `utils` must not linger
            del sys.modules[name]
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"dlgrade-progress: iteration {k} of 1000" for k in (0, 10, 20)]
