"""NumPy 2 removals and GPU-only PyTorch calls, made to work."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest


def test_removed_numpy_names_work_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.float(3) == 3.0 and np.int(2.7) == 2 and bool(np.bool(1))
        assert np.object is object and np.str is str and np.complex is complex
        assert np.product([2, 3]) == 6 and list(np.cumproduct([1, 2, 3])) == [1, 2, 6]
        assert np.alltrue([True, True]) and np.sometrue([False, True])
        assert np.asscalar(np.array([4])) == 4
        assert np.Inf == np.PINF == np.infty == np.inf and -np.inf == np.NINF
        assert np.isnan(np.NaN)
        assert np.float_ is np.float64 and np.complex_ is np.complex128
        assert np.round_(1.26, 1) == pytest.approx(1.3)
        assert list(np.in1d([[1, 5], [2, 7]], [1, 2])) == [True, False, True, False]
        assert np.trapz([1, 1, 1]) == 2.0
        assert np.row_stack([[1], [2]]).shape == (2, 1)


def test_names_numpy_2_still_has_are_not_replaced() -> None:
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        assert np.bool is np.bool_
    assert np.long is not int or np.lib.NumpyVersion(np.__version__) < "2.0.0"


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing is patched")
    return torch


def test_cuda_calls_are_no_ops_on_a_cpu_machine(torch) -> None:  # type: ignore[no-untyped-def]
    x = torch.ones(2)
    assert x.cuda() is x and x.cuda(0) is x
    net = torch.nn.Linear(2, 3)
    assert net.cuda() is net
    assert torch.cuda.is_available() is False


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "CUDA"])
def test_cuda_devices_become_the_cpu(torch, device: str) -> None:  # type: ignore[no-untyped-def]
    dev = torch.device(device.lower())
    assert torch.zeros(2, device=device).device.type == "cpu"
    assert torch.tensor([1.0], device=dev).device.type == "cpu"
    assert torch.ones(2).to(device).device.type == "cpu"
    assert torch.ones(2).to(dev).device.type == "cpu"
    assert torch.ones(2).to(device=dev, dtype=torch.float64).dtype == torch.float64
    assert torch.ones(2).to(0).device.type == "cpu"
    assert torch.ones(2).new_zeros(3, device=device).device.type == "cpu"
    net = torch.nn.Sequential(torch.nn.Linear(2, 3, device=device)).to(dev)
    assert next(net.parameters()).device.type == "cpu"


def test_torch_load_defaults_to_the_cpu(torch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.pt"
    torch.save({"w": torch.ones(2)}, path)
    assert torch.load(path, map_location="cuda")["w"].device.type == "cpu"
    assert torch.load(path)["w"].sum().item() == 2.0


def test_install_does_not_import_torch_but_patches_it_on_import() -> None:
    pytest.importorskip("torch")
    code = (
        "import sys\n"
        "from graders.harness import compat\n"
        "compat.install()\n"
        "assert 'torch' not in sys.modules, 'torch imported by install()'\n"
        "import torch\n"
        "assert torch.zeros(1, device='cuda').device.type == 'cpu'\n"
        "assert torch.nn.Linear(1, 1).cuda() is not None\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
