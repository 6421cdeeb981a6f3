"""Reference solutions for nyu-dl-hw1 (secret: never mounted in a sandbox).

``mlp``: the numpy MLP (forward, exact gradients, batched prediction) in
either weight layout. ``architecture``: the layer sequence the PyTorch
architecture check expects. ``fashion_mlp``: the reference PyTorch ``Net``;
import it explicitly, since it needs torch.
"""

from .architecture import LayerSpec, expected_architecture
from .mlp import (
    IN_OUT,
    LAYER_SIZES,
    OUT_IN,
    Layout,
    Layouts,
    detect_layout,
    forward,
    gradients,
    layout_candidates,
    predict,
)

__all__ = [
    "IN_OUT",
    "LAYER_SIZES",
    "OUT_IN",
    "LayerSpec",
    "Layout",
    "Layouts",
    "detect_layout",
    "expected_architecture",
    "forward",
    "gradients",
    "layout_candidates",
    "predict",
]
