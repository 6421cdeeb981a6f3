"""Stand-ins for missing and well-known packages, seen from student code."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
from harness_support import run_student

from graders.harness.standins import NotInstalledError


def test_installed_packages_import_normally() -> None:
    ns = run_student("import json, numpy\nimport numpy.linalg as la\n")
    assert ns["numpy"].__name__ == "numpy" and ns["la"].__name__ == "numpy.linalg"


def test_missing_package_imported_by_library_code_still_raises() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dlgrade_no_such_package")
    assert "dlgrade_no_such_package" not in sys.modules


def test_missing_submodule_of_an_installed_package_still_raises() -> None:
    with pytest.raises(ModuleNotFoundError):
        run_student("import numpy.dlgrade_no_such_module\n")


def test_missing_package_imports_and_attributes_succeed_until_used() -> None:
    ns = run_student(
        "import wandb\n"
        "import tensorflow as tf\n"
        "from tensorflow.keras import layers\n"
        "from keras.datasets import mnist\n"
        "dense = layers.Dense\n"
        "same = tf.float32 is tf.float32\n"
    )
    assert ns["same"] is True
    assert "tensorflow is not installed" in repr(ns["dense"])
    with pytest.raises(NotInstalledError, match=r"wandb is not installed on the grader"):
        ns["wandb"].init(project="hw1")
    with pytest.raises(ImportError, match=r"called keras\.datasets\.mnist\.load_data"):
        ns["mnist"].load_data()


@pytest.mark.parametrize(
    "use",
    ["list(x)", "len(x)", "x[0]", "bool(x)", "float(x)", "x + 1", "2 * x", "x < 1", "1 in x"],
)
def test_using_a_stand_in_as_a_value_raises_a_clear_error(use: str) -> None:
    ns = run_student("import seaborn as sns\nx = sns.load_dataset\n")
    with pytest.raises(NotInstalledError, match="seaborn is not installed on the grader"):
        eval(use, {"x": ns["x"]})


def test_stand_in_decorator_keeps_the_students_function() -> None:
    ns = run_student("import tensorflow as tf\n@tf.function\ndef f(x):\n    return x + 1\n")
    assert ns["f"](1) == 2


def test_class_may_derive_from_a_stand_in_but_not_be_built() -> None:
    ns = run_student(
        "import tensorflow as tf\n"
        "class Net(tf.keras.Model):\n"
        "    def double(self, x):\n"
        "        return 2 * x\n"
    )
    assert ns["Net"].double(None, 2) == 4
    with pytest.raises(NotInstalledError, match=r"tensorflow\.keras\.Model"):
        ns["Net"]()


def test_tqdm_stand_ins_are_transparent() -> None:
    ns = run_student(
        "import tqdm\n"
        "from tqdm.auto import tqdm as auto\n"
        "from tqdm.notebook import tqdm as nb, trange\n"
        "a = list(auto([1, 2]))\n"
        "b = [i for i in nb(range(2), leave=False)]\n"
        "c = list(trange(3))\n"
        "d = list(tqdm.tqdm('xy'))\n"
        "with auto(total=10, desc='epoch') as bar:\n"
        "    bar.update(4)\n"
        "    bar.set_description('x')\n"
        "n = bar.n\n"
    )
    assert (ns["a"], ns["b"], ns["c"], ns["d"], ns["n"]) == (
        [1, 2],
        [0, 1],
        [0, 1, 2],
        ["x", "y"],
        4,
    )


def test_ipython_display_and_colab_are_silent_no_ops(capsys: pytest.CaptureFixture[str]) -> None:
    run_student(
        "from IPython.display import display, clear_output, HTML, Image, Markdown\n"
        "display(HTML('<b>x</b>'), Markdown('# y'), Image(filename='a.png'))\n"
        "clear_output(wait=True)\n"
        "from google.colab import drive\n"
        "drive.mount('/content/drive')\n"
    )
    assert capsys.readouterr().out == ""


def test_matplotlib_draws_nothing_and_writes_no_file(tmp_path: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    target = tmp_path / "fig.png"
    ns = run_student(
        "from IPython.display import display\n"
        "import matplotlib\n"
        "matplotlib.use('TkAgg')\n"
        "import matplotlib.pyplot as plt\n"
        "fig, (ax1, ax2) = plt.subplots(1, 2)\n"
        "ax1.plot([1, 2, 3])\n"
        "plt.savefig(TARGET)\n"
        "fig.savefig(TARGET)\n"
        "plt.pause(5)\n"
        "plt.show()\n"
        "backend = matplotlib.get_backend()\n"
        "open_figures = plt.get_fignums()\n".replace("TARGET", repr(str(target)))
    )
    assert ns["backend"].lower() == "agg" and ns["open_figures"] == []
    assert not target.exists()
