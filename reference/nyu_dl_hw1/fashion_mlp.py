"""Reference PyTorch model for nyu-dl-hw1's Fashion-MNIST part (secret; needs torch).

The dense network the handout asks for, built from ``expected_architecture()``
so that the reference and the architecture check cannot drift apart.
"""

from __future__ import annotations

import torch
from torch import nn

from .architecture import LayerSpec, expected_architecture


def _module(spec: LayerSpec) -> nn.Module:
    if spec.kind == "Linear":
        assert spec.in_features is not None and spec.out_features is not None
        return nn.Linear(spec.in_features, spec.out_features)
    return nn.ReLU()


class Net(nn.Module):
    """Flatten, then 784→256→128→64→10 with ReLU between; returns logits (N, 10).

    Accepts (N, 1, 28, 28) images as ``ToTensor`` gives them, or (N, 784) rows.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(*(_module(spec) for spec in expected_architecture()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.flatten(x))
