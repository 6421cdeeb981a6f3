"""The course-side model locator and tracer, run in this process on hand-built namespaces.

The same code runs in the sandbox during grading; here each rule of the
contract gets one small model: which model is graded, which calls count as
layers, and what is reported when there is no single model.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

import torch
import torch.nn.functional as F
from torch import nn

from graders.assignments.nyu_dl_hw1.provided import fashion_training as ft

EXPECTED = [["Linear", 784, 256], ["ReLU", None, None], ["Linear", 256, 128],
            ["ReLU", None, None], ["Linear", 128, 64], ["ReLU", None, None],
            ["Linear", 64, 10]]


def sequential(*extra: Any) -> Any:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10), *extra)


def layers(student: SimpleNamespace) -> list[list[Any]]:
    traced = ft.trace_model(student, batch=3, seed=0)
    assert traced["model"] is not None, traced.get("message")
    return [entry for entry in traced["layers"] if entry[0] not in ("Flatten", "Dropout")]


class FunctionalNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(784, 256), nn.Linear(256, 128)
        self.c, self.d = nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x: Any) -> Any:
        x = x.view(x.shape[0], -1)
        x = F.relu(self.a(x))
        x = torch.relu(self.b(x))
        x = self.c(x).relu()
        return self.d(F.dropout(x, 0.1, self.training))


class UnusedRelu(nn.Module):
    """Defines three ReLU modules and calls two of them."""

    def __init__(self) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(784, 256), nn.Linear(256, 128)
        self.l3, self.l4 = nn.Linear(128, 64), nn.Linear(64, 10)
        self.act1, self.act2, self.act3 = nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x: Any) -> Any:
        x = x.view(-1, 784)
        x = self.act2(self.l2(self.act1(self.l1(x))))
        return self.l4(self.l3(x))


class RowsOnly(nn.Module):
    """Takes (N, 784) rows only: a Linear straight on (N, 1, 28, 28) fails."""

    def __init__(self) -> None:
        super().__init__()
        self.net = sequential()[1:]

    def forward(self, x: Any) -> Any:
        return self.net(x)


def test_functional_relu_tensor_relu_and_dropout_count_as_the_handout_layers() -> None:
    assert layers(SimpleNamespace(FunctionalNet=FunctionalNet)) == EXPECTED


def test_one_relu_module_reused_counts_at_every_call() -> None:
    class Reused(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1, self.l2 = nn.Linear(784, 256), nn.Linear(256, 128)
            self.l3, self.l4 = nn.Linear(128, 64), nn.Linear(64, 10)
            self.act = nn.ReLU()

        def forward(self, x: Any) -> Any:
            x = torch.flatten(x, 1)
            return self.l4(self.act(self.l3(self.act(self.l2(self.act(self.l1(x)))))))

    assert layers(SimpleNamespace(Reused=Reused)) == EXPECTED


def test_a_relu_module_that_forward_never_calls_does_not_count() -> None:
    traced = layers(SimpleNamespace(UnusedRelu=UnusedRelu))
    assert traced == [*EXPECTED[:5], EXPECTED[6]]


def test_a_final_softmax_module_or_call_is_recorded_after_the_last_linear() -> None:
    class SoftmaxCall(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = sequential()

        def forward(self, x: Any) -> Any:
            return F.softmax(self.body(x), dim=1)

    assert layers(SimpleNamespace(model=sequential(nn.Softmax(dim=1))))[-1] == [
        "Softmax", None, None]
    assert layers(SimpleNamespace(SoftmaxCall=SoftmaxCall))[-1] == ["softmax()", None, None]


def test_a_model_that_takes_only_rows_is_traced_on_784_columns() -> None:
    traced = ft.trace_model(SimpleNamespace(RowsOnly=RowsOnly), batch=5, seed=1)
    assert traced["input_shape"] == [5, 784]
    assert traced["output_shape"] == [5, 10]


def test_net_wins_over_other_classes_and_instances() -> None:
    student = SimpleNamespace(FunctionalNet=FunctionalNet, Net=RowsOnly, model=sequential())
    assert ft.locate(student).description == "class Net"


class SizedNet(nn.Module):
    """The handout's MLP with its sizes as constructor arguments."""

    def __init__(self, input_size: int, num_classes: int) -> None:
        super().__init__()
        self.net = sequential()
        assert (input_size, num_classes) == (784, 10)

    def forward(self, x: Any) -> Any:
        return self.net(x)


def test_a_net_that_needs_arguments_is_graded_through_its_one_instance() -> None:
    instance = SizedNet(784, 10)
    student = SimpleNamespace(Net=SizedNet, net=instance, FunctionalNet=FunctionalNet)
    located = ft.locate(student)
    assert located.description == "net (an instance of Net, which needs arguments to build)"
    assert layers(student) == EXPECTED
    alone = ft.locate(SimpleNamespace(Net=SizedNet))
    assert alone.build is None and "class Net does not build without arguments" in alone.message
    assert "no top-level instance" in alone.message


def test_a_class_graded_before_a_top_level_model_says_so() -> None:
    located = ft.locate(SimpleNamespace(FunctionalNet=FunctionalNet, model=sequential(),
                                        loss_fn=nn.CrossEntropyLoss()))
    assert located.description.startswith("class FunctionalNet (graded before the top-level "
                                           "model: a class that builds without arguments")
    alone = ft.locate(SimpleNamespace(FunctionalNet=FunctionalNet, net=FunctionalNet()))
    assert alone.description == "class FunctionalNet"  # its own instance is no rival


def test_a_top_level_sequential_is_graded_when_no_class_builds() -> None:
    model = sequential()
    student = SimpleNamespace(model=model, alias=model, loss_fn=nn.CrossEntropyLoss(),
                              act=nn.PReLU(), first=model[1])
    located = ft.locate(student)
    assert located.description == "model (an instance of Sequential)"
    copy = ft._fresh(located, seed=3)
    assert isinstance(copy, nn.Sequential) and copy is not model
    # re-initialised: the copy's weights are not the original's
    first_copy, first_model = copy[1], model[1]
    assert isinstance(first_copy, nn.Linear) and isinstance(first_model, nn.Linear)
    assert not torch.equal(first_copy.weight, first_model.weight)


def test_classes_that_need_arguments_or_have_no_parameters_are_not_candidates() -> None:
    class NeedsSizes(nn.Module):
        def __init__(self, sizes: list[int]) -> None:
            super().__init__()

    class Swish(nn.Module):
        def forward(self, x: Any) -> Any:
            return x * torch.sigmoid(x)

    student = SimpleNamespace(NeedsSizes=NeedsSizes, Swish=Swish, FunctionalNet=FunctionalNet)
    assert ft.locate(student).description == "class FunctionalNet"


def test_two_candidate_classes_are_a_clear_error_naming_both() -> None:
    located = ft.locate(SimpleNamespace(FunctionalNet=FunctionalNet, RowsOnly=RowsOnly))
    assert located.build is None
    assert "FunctionalNet" in located.message and "RowsOnly" in located.message
    assert "Net" in located.message


def test_no_model_says_what_was_found_instead() -> None:
    class NeedsSizes(nn.Module):
        def __init__(self, sizes: list[int]) -> None:
            super().__init__()

    located = ft.locate(SimpleNamespace(NeedsSizes=NeedsSizes, loss=nn.CrossEntropyLoss(),
                                        weights=np.zeros(3)))
    assert located.build is None
    assert located.message.startswith("No model found")
    assert "NeedsSizes does not build without arguments" in located.message
    assert "loss is a CrossEntropyLoss" in located.message


def _export(student: SimpleNamespace, probes: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(130, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=130).astype(np.uint8)
    return ft.train_and_export(student, x, y, probes, epochs=1, batch_size=64,
                               learning_rate=1e-3, seed=5)


def _probes() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(16, 28, 28), dtype=np.uint8)


def test_training_returns_layers_that_replay_to_the_models_outputs_and_is_reproducible(
        ) -> None:
    from graders.assignments.nyu_dl_hw1 import replay

    probes = _probes()
    runs = [_export(SimpleNamespace(FunctionalNet=FunctionalNet), probes) for _ in range(2)]
    layers = replay.layers_of(runs[0]["layers"])
    assert [kind for kind, _, _ in layers if kind not in ("Flatten", "Dropout")] == [
        e[0] for e in EXPECTED]
    assert layers[0][1].shape == (256, 784)  # the first Linear's weight, (out, in)
    replay.check_replay(layers, probes.reshape(16, -1) / 255.0, runs[0]["outputs"])
    np.testing.assert_array_equal(runs[0]["outputs"], runs[1]["outputs"])


class Residual(nn.Module):
    """Not a chain: the output adds a skip path the tracer does not record."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.out = nn.Linear(784, 784), nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        return self.out(torch.relu(self.inner(x)) + x)


def test_a_forward_pass_that_is_not_a_chain_of_layers_is_not_replayed() -> None:
    from graders.assignments.nyu_dl_hw1 import replay

    probes = _probes()
    out = _export(SimpleNamespace(Residual=Residual), probes)
    layers = replay.layers_of(out["layers"])
    with pytest.raises(replay.NotReplayable, match="do not give its outputs"):
        replay.check_replay(layers, probes.reshape(16, -1) / 255.0, out["outputs"])
