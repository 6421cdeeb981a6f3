"""Loading submissions statement by statement, in-process (no sandbox)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness_support import load, notebook_file, py_file, whats

from graders.harness import loader


def namespace(result: loader.LoadResult, index: int = 0) -> dict[str, Any]:
    return result.namespaces[index][1]


def test_top_level_entry_points_are_skipped_but_kept_inside_functions() -> None:
    nb = notebook_file(
        "hw1.ipynb",
        "calls = []\ndef fit(x):\n    calls.append(x)\n    return 2 * x\n"
        "def train():\n    return fit(10)\n"
        "class Trainer:\n    def go(self):\n        return fit(20)",
        "for i in range(3):\n    fit(i)\n"
        "history = fit(5)\nresult = train()\nother = Trainer().go()",
    )
    result = load(nb, skip=("fit",))
    ns = namespace(result)
    assert ns["calls"] == [10, 20]
    assert (ns["history"], ns["result"], ns["other"]) == (None, 20, 40)
    assert {"where": "hw1.ipynb cell 2, line 2", "what": "skipped call to fit(...)"}.items() <= (
        result.log[0].items()
    )
    assert whats(result) == ["skipped call to fit(...)", "skipped call to fit(...)"]


def test_attribute_calls_are_skipped_in_with_and_if_bodies_and_expressions() -> None:
    src = (
        "import contextlib\n"
        "class Solver:\n"
        "    def train(self):\n"
        "        raise RuntimeError('trained at load time')\n"
        "solver = Solver()\n"
        "with contextlib.nullcontext():\n"
        "    solver.train()\n"
        "if True:\n"
        "    out = [solver.train() for _ in range(2)]\n"
        "done = True\n"
    )
    result = load(py_file("run.py", src), skip=("train",))
    ns = namespace(result)
    assert ns["out"] == [None, None] and ns["done"]
    assert whats(result) == ["skipped call to solver.train()"] * 2


def test_dotted_skip_entry_matches_only_that_expression() -> None:
    src = "class M:\n    def fit(self):\n        return 'ran'\nmodel, solver = M(), M()\n"
    src += "a = model.fit()\nb = solver.fit()\n"
    ns = namespace(load(py_file("m.py", src), skip=("solver.fit",)))
    assert (ns["a"], ns["b"]) == ("ran", None)


def test_syntax_error_in_one_cell_does_not_stop_the_next() -> None:
    result = load(notebook_file("nb.ipynb", "a = 1", "b = (2", "c = 3"))
    ns = namespace(result)
    assert (ns["a"], ns["c"]) == (1, 3) and "b" not in ns
    [entry] = result.log
    assert entry["where"] == "nb.ipynb cell 2, line 1"
    assert entry["what"].startswith("SyntaxError:") and entry["kind"] == "syntax"


def test_statement_the_compiler_rejects_is_skipped_alone() -> None:
    result = load(py_file("a.py", "x = 1\nreturn x\ny = 2\n"))
    assert (namespace(result)["x"], namespace(result)["y"]) == (1, 2)
    assert whats(result) == ["SyntaxError: 'return' outside function (statement not run)"]


def test_failing_statement_is_logged_and_the_rest_of_the_cell_runs() -> None:
    result = load(notebook_file("nb.ipynb", "def g():\n    return 1 / 0", "x = 1\ny = g()\nz = 3"))
    ns = namespace(result)
    assert ns["z"] == 3 and "y" not in ns
    [entry] = result.log
    assert entry == {
        "where": "nb.ipynb cell 1, line 2",
        "what": "ZeroDivisionError: division by zero",
        "kind": "error",
    }


def test_missing_package_gives_a_clear_error_and_loading_goes_on() -> None:
    nb = notebook_file(
        "hw1.ipynb",
        "import tensorflow as tf\n(x_train, y_train), _ = tf.keras.datasets.mnist.load_data()",
        "after = 1",
    )
    result = load(nb)
    assert namespace(result)["after"] == 1
    [entry] = result.log
    assert entry["where"] == "hw1.ipynb cell 1, line 2"
    assert entry["what"].startswith("NotInstalledError: tensorflow is not installed on the grader")
    assert "the grader supplies the data itself" in entry["what"]


def test_tqdm_wraps_iterables_transparently() -> None:
    src = (
        "from tqdm import tqdm, trange\n"
        "seen = [x for x in tqdm(range(3), desc='epochs')]\n"
        "with tqdm(total=3) as bar:\n"
        "    bar.update()\n"
        "    bar.set_postfix(loss=0.1)\n"
        "steps = list(trange(2))\n"
    )
    result = load(py_file("t.py", src))
    assert result.log == []
    assert (namespace(result)["seen"], namespace(result)["steps"]) == ([0, 1, 2], [0, 1])


def test_numpy_names_removed_in_numpy_2_work() -> None:
    src = "import numpy as np\nx = np.float(3) + np.int(2)\np = np.product([2, 3])\n"
    src += "a = np.asscalar(np.array([4]))\nn = np.NaN\n"
    result = load(py_file("n.py", src))
    ns = namespace(result)
    assert result.log == []
    assert (ns["x"], ns["p"], ns["a"]) == (5.0, 6, 4) and np.isnan(ns["n"])


def test_infinite_loop_is_stopped_and_later_cells_still_run() -> None:
    started = time.monotonic()
    result = load(
        notebook_file("nb.ipynb", "x = 0\nwhile True:\n    x += 1", "after = 1"), timeout=0.3
    )
    assert time.monotonic() - started < 3
    assert namespace(result)["after"] == 1
    [entry] = result.log
    assert entry["what"] == "stopped after 0.3 s (statement time budget)"
    assert entry["where"].startswith("nb.ipynb cell 1, line ") and entry["kind"] == "timeout"


def test_student_code_that_swallows_the_stop_is_stopped_again() -> None:
    src = "try:\n    while True:\n        pass\nexcept BaseException:\n    caught = True\n"
    src += "while True:\n    pass\n"
    started = time.monotonic()
    result = load(notebook_file("nb.ipynb", src, "after = 1"), timeout=0.2)
    assert time.monotonic() - started < 3
    assert namespace(result)["caught"] and namespace(result)["after"] == 1
    assert whats(result) == ["stopped after 0.2 s (statement time budget)"]


def test_sys_exit_and_keyboard_interrupt_are_recorded_and_loading_goes_on() -> None:
    src = "import sys\nsys.exit(3)\nraise KeyboardInterrupt\nafter = 1\n"
    result = load(py_file("quit.py", src))
    assert namespace(result)["after"] == 1
    assert whats(result) == [
        "SystemExit: the code called exit(3)",
        "KeyboardInterrupt: the code raised KeyboardInterrupt",
    ]


def test_previous_alarm_handler_is_restored() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    before = signal.signal(signal.SIGALRM, mine)
    try:
        load(py_file("a.py", "x = 1\n"))
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, before)


def test_main_guard_does_not_run() -> None:
    src = "ran = False\nif __name__ == '__main__':\n    ran = True\n"
    assert namespace(load(py_file("script.py", src)))["ran"] is False


def test_future_import_applies_to_the_statements_after_it() -> None:
    src = "from __future__ import annotations\ndef f(x: NotDefinedYet) -> NotDefinedYet:\n"
    src += "    return x\n"
    result = load(py_file("a.py", src))
    assert result.log == [] and namespace(result)["f"](4) == 4


def test_preset_names_are_visible_in_every_file() -> None:
    data = np.arange(3)
    result = load(
        py_file("a.py", "total = int(x_train.sum())\n"),
        py_file("b.py", "x_train = x_train * 2\n"),
        preset={"x_train": data},
    )
    assert namespace(result, 0)["total"] == 3
    assert list(namespace(result, 1)["x_train"]) == [0, 2, 4]


def test_last_definition_wins_across_files_and_says_so() -> None:
    result = load(
        py_file("a.py", "def f():\n    return 1\n"),
        notebook_file("b.ipynb", "def f():\n    return 2"),
    )
    found = loader.find(result, "f")
    value, file_name, files = found
    assert value() == 2 and file_name == "b.ipynb" and files == ["a.py", "b.ipynb"]
    assert found.note == "defined in a.py, b.ipynb; the one in b.ipynb is used"


def test_find_ignores_untouched_presets_and_names_what_it_searched() -> None:
    result = load(py_file("a.py", "y = 1\n"), py_file("b.py", "z = 2\n"), preset={"x_train": 0})
    with pytest.raises(LookupError, match=r"Not found: x_train \(looked in a\.py, b\.py\)"):
        loader.find(result, "x_train")


def test_files_import_each_other_and_run_once() -> None:
    result = load(
        py_file(
            "nndl/fc_net.py",
            "from .layers import *\nfrom nndl.layers import affine as a2\n"
            "def net(x):\n    return affine(x) * 2\n",
        ),
        py_file("nndl/layers.py", "runs.append('layers')\ndef affine(x):\n    return x + 1\n"),
        preset={"runs": []},
    )
    assert result.log == []
    fc_net, layers = namespace(result, 0), namespace(result, 1)
    assert fc_net["net"](1) == 4 and fc_net["a2"] is layers["affine"]
    assert layers["runs"] == ["layers"]
    assert (fc_net["__name__"], layers["__name__"]) == ("nndl.fc_net", "nndl.layers")
    found = loader.find(result, "affine")
    assert (found.file, found.defined_in) == ("nndl/layers.py", ["nndl/layers.py"])


def test_a_package_inside_an_extra_folder_is_importable_by_its_own_name() -> None:
    result = load(
        py_file("hw3/nndl/layers.py", "def relu(x):\n    return max(x, 0)\n"),
        py_file(
            "hw3/nndl/fc_net.py", "from nndl.layers import relu\nfrom .layers import relu as r2\n"
        ),
    )
    assert result.log == []
    assert namespace(result, 1)["relu"](-1) == 0 and namespace(result, 1)["r2"](-1) == 0


def test_student_file_never_shadows_an_installed_or_standard_module() -> None:
    result = load(
        py_file("json.py", "x = 1\n"), py_file("b.py", "import json\nok = hasattr(json, 'dumps')\n")
    )
    assert namespace(result, 1)["ok"] is True
    assert namespace(result, 0)["__name__"] == "_submission_0"


def test_an_import_does_not_spend_the_importing_statement_budget() -> None:
    slow = "import time\ntime.sleep(0.3)\ntime.sleep(0.3)\nvalue = 1\n"
    result = load(
        py_file("main_part.py", "import dlg_slow_part\n"),
        py_file("dlg_slow_part.py", slow),
        timeout=0.5,
    )
    assert result.log == []
    assert namespace(result, 1)["value"] == 1


def test_errors_inside_an_imported_file_are_logged_against_that_file() -> None:
    result = load(
        py_file("a_main.py", "from dlg_helpers import g\nok = g()\n"),
        py_file(
            "dlg_helpers.py", "import tensorflow as tf\ntf.config.run()\ndef g():\n    return 7\n"
        ),
    )
    assert namespace(result)["ok"] == 7
    [entry] = result.log
    assert entry["where"] == "dlg_helpers.py, line 2"


# ---- the real example notebook ---------------------------------------------------------------

EXAMPLE = Path("/work/shared/examples/nyu-dl-hw1-student.ipynb")


def test_real_nyu_notebook_loads_graded_names() -> None:
    pytest.importorskip("torch")
    if not EXAMPLE.exists():
        pytest.skip("example notebook not available")
    from graders.engine.submission import load_submission

    rng = np.random.default_rng(0)
    preset = {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20),
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
    }
    skip = (
        "test_and_train",
        "train_one_epoch",
        "feed_forward_test_data",
        "feed_forward_training_data",
    )
    result = load(
        *load_submission([EXAMPLE]).harness_files(), skip=skip, timeout=10.0, preset=preset
    )

    weights = loader.find(result, "weights").value
    assert [w.shape for w in weights] == [(784, 32), (32, 32), (32, 10)]
    feed_forward_sample = loader.find(result, "feed_forward_sample").value
    loss, guess = feed_forward_sample(namespace(result)["x_train"][0], 3)
    assert np.isfinite(loss) and guess.sum() == 1
    train_one_sample = loader.find(result, "train_one_sample").value
    before = weights[2].copy()
    train_one_sample(namespace(result)["x_train"][0], 3)
    assert not np.allclose(before, weights[2])
    assert type(loader.find(result, "model").value).__name__ == "DNNReg"  # .cuda() was a no-op

    log = whats(result)
    assert any(w.startswith("NotInstalledError: torchvision is not installed") for w in log)
    assert any(w.startswith("NotInstalledError: tensorflow is not installed") for w in log)
    assert "skipped call to test_and_train()" in log
    assert not any(w.startswith("stopped after") for w in log)
