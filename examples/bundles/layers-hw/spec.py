"""A layers homework in the CS231n style: eleven problems, every check derived."""

from graders.derive import Arg, labels
from graders.spec import Assignment

from . import reference
from .data import blobs

hw = assignment = Assignment("demo-layers", "Demo course: layers homework",
                             reference=reference)

hw.function("sigmoid", points=1, x=Arg(("N", "D"), -6, 6))
hw.function("tanh_grad", points=1, x=Arg(("N", "D"), -3, 3))
hw.layer("affine", points=3, grads="dx, dw, db", x=("N", "D"), w=("D", "M"), b=("M",))
hw.layer("relu", points=2, grads="dx", x=Arg(("N", "D"), -2, 2, kinks=(0.0,)))
hw.loss("softmax_loss", points=2, x=Arg(("N", "C"), -3, 3), y=labels("C"))
hw.loss("svm_loss", points=2, x=Arg(("N", "C"), -3, 3), y=labels("C"))
hw.step("sgd_momentum", points=1, w=("D", "M"), dw=("D", "M"),
        config={"learning_rate": 0.1, "momentum": 0.9})
hw.step("adam", points=2, w=("D", "M"), dw=("D", "M"),
        config={"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-3})
hw.module("Linear", points=4, init=("D", "M"), forward={"x": ("N", "D")},
          params={"W": ("D", "M"), "b": ("M",)}, grads={"W": "dW", "b": "db"},
          backward="dy", step="step")
hw.training("train_softmax", points=2, data=blobs, predict="predict", threshold=(0.5, 0.9))
hw.manual("written.backprop", points=3, description="Derive affine_backward by hand.")
