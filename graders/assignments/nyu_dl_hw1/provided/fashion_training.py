"""Runs inside the sandbox: find the student's Fashion-MNIST model, trace it, train it.

Course code, not secret. It holds no expected architecture and no test
image or label: ``trace_model`` reports the layers one forward pass calls,
and ``train_and_export`` returns the trained layers' weights in call order
with the model's outputs on a few probe images; the trusted side replays
the layers on the probes, and when they agree, on the test images itself.
Imports torch, so it is only imported by the problems of the PyTorch part.

Which model is graded (the contract's rule): the class ``Net`` if there is
one; else the one ``nn.Module`` subclass written in the submission whose
instance builds without arguments and has parameters; else the one
top-level ``nn.Module`` instance with parameters that is neither a loss nor
an activation module nor part of another candidate. Several candidates, or
none, give a message naming what was found.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = ["locate", "trace_model", "train_and_export"]

IMAGE_SHAPE = (1, 28, 28)  # what ToTensor gives for one Fashion-MNIST image


# ---- finding the model --------------------------------------------------------------------


@dataclass
class Located:
    """The graded model's description and how to get a fresh copy; or why there is none."""

    description: str = ""
    build: Callable[[], nn.Module] | None = None
    reinitialise: bool = False
    message: str = ""


def _from_torch(cls: type) -> bool:
    return cls.__module__.partition(".")[0] == "torch"


def _has_parameters(model: nn.Module) -> bool:
    return any(True for _ in model.parameters())


def _not_a_model(module: nn.Module) -> bool:
    """Losses and activations hold no layers to grade, even when they have parameters (PReLU)."""
    return isinstance(module, nn.modules.loss._Loss) or (
        type(module).__module__ == "torch.nn.modules.activation")


def _names(student: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in vars(student).items() if not k.startswith("_")]


def locate(student: Any) -> Located:
    """Apply the contract's rule to the student's top-level names (see the module docstring)."""
    names = _names(student)
    net = dict(names).get("Net")
    if isinstance(net, type) and issubclass(net, nn.Module):
        return _net_class(net, names)
    if isinstance(net, nn.Module):
        return Located(f"Net (an instance of {type(net).__name__})", lambda: copy.deepcopy(net),
                       True)

    classes: list[tuple[str, type]] = []
    notes: list[str] = []
    for name, value in names:
        if (isinstance(value, type) and issubclass(value, nn.Module) and not _from_torch(value)
                and all(value is not c for _, c in classes)):
            classes.append((name, value))
    buildable: list[tuple[str, type]] = []
    for name, cls in classes:
        try:
            with torch.random.fork_rng(devices=[]):
                instance = cls()
        except Exception as exc:
            notes.append(f"class {name} does not build without arguments "
                         f"({type(exc).__name__}: {str(exc)[:120]})")
            continue
        if not _has_parameters(instance):
            notes.append(f"class {name} has no parameters")
            continue
        buildable.append((name, cls))
    if len(buildable) == 1:
        name, cls = buildable[0]
        others = [n for n, v in names if isinstance(v, nn.Module) and not isinstance(v, cls)
                  and not _not_a_model(v) and _has_parameters(v)]
        passed_over = (f" (graded before the top-level {', '.join(others[:3])}: a class that "
                       "builds without arguments comes first; name the model to grade Net)"
                       if others else "")
        return Located(f"class {name}{passed_over}", cls)
    if len(buildable) > 1:
        listed = ", ".join(name for name, _ in buildable)
        return Located(message=(
            f"Several models could be the one to grade: classes {listed} (nn.Module subclasses "
            "that build without arguments). Name the one for this problem Net, or remove the "
            "others."))

    instances: list[tuple[str, nn.Module]] = []
    for name, value in names:
        if not isinstance(value, nn.Module) or any(value is m for _, m in instances):
            continue
        if _not_a_model(value):
            notes.append(f"{name} is a {type(value).__name__} (a loss or activation, not a model)")
        elif not _has_parameters(value):
            notes.append(f"{name} ({type(value).__name__}) has no parameters")
        else:
            instances.append((name, value))
    # A layer that is also a top-level name (l1 = nn.Linear(...); model = nn.Sequential(l1, ...))
    # belongs to the model that holds it.
    top = [(n, m) for n, m in instances
           if not any(m is not other and any(m is sub for sub in other.modules())
                      for _, other in instances)]
    if len(top) == 1:
        name, model = top[0]
        return Located(f"{name} (an instance of {type(model).__name__})",
                       lambda: copy.deepcopy(model), True)
    if len(top) > 1:
        listed = ", ".join(f"{n} ({type(m).__name__})" for n, m in top)
        return Located(message=(
            f"Several models could be the one to grade: top-level instances {listed}. Name the "
            "class of the one for this problem Net, or keep a single model at top level."))
    found = f" Found: {'; '.join(notes)}." if notes else ""
    return Located(message=(
        "No model found: no class named Net, no nn.Module subclass in the submission that "
        "builds without arguments and has parameters, and no top-level nn.Module instance with "
        f"parameters.{found}"))


def _net_class(net: type, names: list[tuple[str, Any]]) -> Located:
    """Net itself when it builds without arguments, else the one instance the notebook made."""
    try:
        with torch.random.fork_rng(devices=[]):
            net()
        return Located("class Net", net)
    except Exception as exc:
        why = f"{type(exc).__name__}: {str(exc)[:120]}"
    made = [(name, value) for name, value in names if isinstance(value, net)]
    if len(made) == 1:
        name, model = made[0]
        return Located(f"{name} (an instance of Net, which needs arguments to build)",
                       lambda: copy.deepcopy(model), True)
    return Located(message=(
        f"class Net does not build without arguments ({why}), and there is "
        f"{'no' if not made else 'more than one'} top-level instance of it to copy. Give its "
        "arguments defaults, or keep exactly one instance at top level (net = Net(...))."))


def _fresh(located: Located, seed: int) -> nn.Module:
    """A new instance of the class, or a deep copy with every layer re-initialised, seeded."""
    assert located.build is not None
    torch.manual_seed(seed)
    model = located.build()
    if located.reinitialise:
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    return model


# ---- tracing one forward pass -------------------------------------------------------------

# Functions that count as layers when the student calls them outside a torch.nn layer. Plain
# tensor plumbing (view, reshape, size, to, arithmetic) is not recorded.
_AS_LAYER = {"relu": "ReLU", "relu_": "ReLU", "linear": "Linear", "flatten": "Flatten",
             "dropout": "Dropout", "dropout_": "Dropout", "dropout1d": "Dropout",
             "dropout2d": "Dropout", "alpha_dropout": "Dropout",
             "feature_alpha_dropout": "Dropout"}
_OTHER_FUNCTIONS = frozenset({
    "softmax", "log_softmax", "softmin", "sigmoid", "sigmoid_", "tanh", "tanh_", "leaky_relu",
    "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "relu6", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "logsigmoid", "prelu",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "normalize", "exp", "log",
    "matmul", "mm", "addmm", "bmm", "__matmul__", "__rmatmul__", "conv1d", "conv2d",
    "max_pool2d", "avg_pool2d"})
_DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                    nn.FeatureAlphaDropout)
_SILENT_MODULES = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.Identity)


def _torch_layer(module: nn.Module) -> bool:
    """A module of torch.nn itself that computes something (not a container)."""
    return (type(module).__module__.startswith("torch.nn")
            and not isinstance(module, _SILENT_MODULES)
            and next(module.children(), None) is None)


def _module_entry(module: nn.Module) -> list[Any]:
    if isinstance(module, nn.Linear):
        return ["Linear", int(module.in_features), int(module.out_features)]
    if isinstance(module, nn.ReLU):
        return ["ReLU", None, None]
    if isinstance(module, _DROPOUT_MODULES):
        return ["Dropout", None, None]
    return [type(module).__name__, None, None]


def _function_entry(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    kind = _AS_LAYER.get(name)
    if kind == "Linear":
        weight = args[1] if len(args) > 1 else kwargs.get("weight")
        shape = tuple(getattr(weight, "shape", ()))
        if len(shape) == 2:
            return ["Linear", int(shape[1]), int(shape[0])]
        return ["linear()", None, None]
    if kind is not None:
        return [kind, None, None]
    return [f"{name.strip('_')}()", None, None]


class _Recorder(TorchFunctionMode):
    """Sees every torch function call; records the layer-like ones made by the student's code.

    Calls made inside a torch.nn layer (the ``F.relu`` inside ``nn.ReLU``) are
    not recorded again: the layer itself was.
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers: list[list[Any]] = []
        # Beside each layer, the weight and bias of a linear one (else None): what the
        # trusted side needs to replay the forward pass itself.
        self.weights: list[tuple[Any, Any] | None] = []
        self.inside = 0

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if not self.inside and (name in _AS_LAYER or name in _OTHER_FUNCTIONS):
            self.layers.append(_function_entry(name, args, kwargs))
            linear = _AS_LAYER.get(name) == "Linear"
            self.weights.append((args[1] if len(args) > 1 else kwargs.get("weight"),
                                 args[2] if len(args) > 2 else kwargs.get("bias"))
                                if linear else None)
        return func(*args, **kwargs)


@contextmanager
def _recording() -> Iterator[_Recorder]:
    recorder = _Recorder()

    def before(module: nn.Module, inputs: Any) -> None:
        if _torch_layer(module):
            if not recorder.inside:
                recorder.layers.append(_module_entry(module))
                recorder.weights.append((module.weight, module.bias)
                                        if isinstance(module, nn.Linear) else None)
            recorder.inside += 1

    def after(module: nn.Module, inputs: Any, output: Any) -> None:
        if _torch_layer(module):
            recorder.inside -= 1

    hooks = [nn.modules.module.register_module_forward_pre_hook(before),
             nn.modules.module.register_module_forward_hook(after)]
    try:
        with recorder:
            yield recorder
    finally:
        for hook in hooks:
            hook.remove()


def _images(batch: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((batch, *IMAGE_SHAPE), generator=generator)


def _run(model: nn.Module, images: torch.Tensor) -> tuple[bool, Any, list[list[Any]]]:
    """One forward pass on (N, 1, 28, 28) images, else on (N, 784) rows; the first error wins."""
    first: BaseException | None = None
    for x in (images, images.reshape(images.shape[0], -1)):
        try:
            with torch.no_grad(), _recording() as recorder:
                out = model(x)
            return x.dim() == 2, out, recorder.layers
        except Exception as exc:
            first = first or exc
    assert first is not None
    raise first


def trace_model(student: Any, *, batch: int, seed: int) -> dict[str, Any]:
    """Locate the model and record the layers one forward pass calls, in call order.

    Returns ``{"model", "layers": [[kind, in, out], ...], "input_shape",
    "output_shape"}`` (``output_shape`` None when the output is not a tensor),
    or ``{"model": None, "message"}`` when no single model is found.
    """
    located = locate(student)
    if located.build is None:
        return {"model": None, "message": located.message}
    model = _fresh(located, seed)
    model.eval()
    flat, out, layers = _run(model, _images(batch, seed))
    shape = [batch, 28 * 28] if flat else [batch, *IMAGE_SHAPE]
    return {"model": located.description, "layers": layers, "input_shape": shape,
            "output_shape": list(out.shape) if isinstance(out, torch.Tensor) else None,
            "output_type": type(out).__name__}


# ---- the grader's training run ------------------------------------------------------------


def _wants_rows(model: nn.Module) -> bool:
    """Whether the model only takes (N, 784) rows (it fails on (N, 1, 28, 28) images)."""
    was_training = model.training
    model.eval()
    try:
        flat, _, _ = _run(model, torch.zeros((2, *IMAGE_SHAPE)))
    finally:
        model.train(was_training)
    return flat


def _batch(images: torch.Tensor, rows: bool) -> torch.Tensor:
    """uint8 images scaled to [0, 1] as ToTensor does, shaped as the model takes them."""
    x = images.to(torch.float32).div_(255.0)
    return x.reshape(x.shape[0], -1) if rows else x.unsqueeze(1)


def train_and_export(student: Any, x_train: np.ndarray, y_train: np.ndarray,
                     probes: np.ndarray, *, epochs: int, batch_size: int,
                     learning_rate: float, seed: int) -> dict[str, Any]:
    """Train a fresh copy of the model with the grader's loop; its layers, for replay outside.

    Cross-entropy, Adam, shuffled minibatches from a seeded generator, one
    thread: the same submission always trains the same way. Then one traced
    forward pass on ``probes`` (uint8 images the grader chose). Returns
    ``{"model", "layers": [[kind, weight, bias], ...], "outputs"}`` (weight and
    bias None but for linear layers), or ``{"model": None, "message"}``.
    """
    located = locate(student)
    if located.build is None:
        return {"model": None, "message": located.message}
    torch.set_num_threads(1)
    model = _fresh(located, seed)
    rows = _wants_rows(model)
    x = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.uint8))
    y = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(x.shape[0], generator=order).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(_batch(x[idx], rows)), y[idx])
            loss.backward()
            optimizer.step()
        # Read by the grader only to say how far training got if it runs out of time.
        print(f"dlgrade-progress: epoch {epoch + 1}/{epochs}", file=sys.stderr, flush=True)
    model.eval()
    images = torch.from_numpy(np.ascontiguousarray(probes, dtype=np.uint8))
    with torch.no_grad(), _recording() as recorder:
        out = model(_batch(images, rows))
    layers = [[entry[0], *(_plain(t) for t in (weights or (None, None)))]
              for entry, weights in zip(recorder.layers, recorder.weights, strict=True)]
    return {"model": located.description, "layers": layers,
            "outputs": _plain(out) if isinstance(out, torch.Tensor) else None}


def _plain(tensor: Any) -> np.ndarray | None:
    """A tensor as a float64 array (None stays None)."""
    if not isinstance(tensor, torch.Tensor):
        return None
    return tensor.detach().cpu().to(torch.float64).numpy()
