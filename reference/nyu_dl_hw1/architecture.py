"""What ``fashion_mlp.architecture`` expects of the student's PyTorch model, as plain data.

Kept free of torch so the engine can read it without the optional torch
dependency; the reference ``Net`` is built from the same list.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final, NamedTuple

INPUT_SIZE: Final = 28 * 28
HIDDEN_SIZES: Final = (256, 128, 64)
NUM_CLASSES: Final = 10

# Modules and calls a traced forward pass may contain anywhere without counting as layers.
IGNORED_KINDS: Final = frozenset({"Flatten", "Dropout"})


class LayerSpec(NamedTuple):
    """One traced layer: ``("Linear", 784, 256)`` or ``("ReLU", None, None)``."""

    kind: str
    in_features: int | None = None
    out_features: int | None = None

    def __str__(self) -> str:
        if self.kind == "Linear":
            return f"Linear({self.in_features}→{self.out_features})"
        return self.kind


def expected_architecture() -> tuple[LayerSpec, ...]:
    """Linear 784→256, ReLU, 256→128, ReLU, 128→64, ReLU, 64→10, in call order.

    Nothing may follow the last Linear (a softmax there is wrong with
    cross-entropy); only ``IGNORED_KINDS`` may appear between these layers.
    """
    sizes = (INPUT_SIZE, *HIDDEN_SIZES, NUM_CLASSES)
    layers: list[LayerSpec] = []
    for n_in, n_out in pairwise(sizes):
        if layers:
            layers.append(LayerSpec("ReLU"))
        layers.append(LayerSpec("Linear", n_in, n_out))
    return tuple(layers)
