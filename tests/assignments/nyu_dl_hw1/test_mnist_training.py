"""The course's epoch loop for the numpy part, run directly (it is plain course code)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from graders.assignments.nyu_dl_hw1.provided import mnist_training


def test_a_train_one_epoch_of_the_pytorch_part_is_named_as_the_one_graded() -> None:
    """Notebooks uploaded per part: the PyTorch loop's train_one_epoch, loaded last, wins."""
    def train_one_epoch(model: Any, loader: Any, optimizer: Any, loss_fn: Any) -> None:
        raise AssertionError("never called")

    student = SimpleNamespace(train_one_epoch=train_one_epoch)
    with pytest.raises(TypeError, match=r"needs model, loader, optimizer, loss_fn; the numpy "
                                        r"part's train_one_epoch\(learning_rate\) was expected"):
        mnist_training.train_epochs(student, epochs=1, learning_rate=0.003)


def test_the_handout_signatures_are_called_as_the_handout_does() -> None:
    rates: list[Any] = []
    for fn in (lambda learning_rate=0.1: rates.append(learning_rate),
               lambda lr: rates.append(lr),
               lambda: rates.append("own")):
        mnist_training.train_epochs(SimpleNamespace(train_one_epoch=fn), epochs=1,
                                    learning_rate=0.003)
    assert rates == [0.003, 0.003, "own"]
