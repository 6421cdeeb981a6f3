"""radboud-dl-a1: Radboud NWI-IMC070 (2023), assignment 1 — numpy backprop from scratch.

Contract: ``shared/assignments/radboud-dl-a1.md``. The functions and layers are
declared: their checks (values at two batch sizes, finite differences, dy really
used, inputs unchanged, state over calls, two steps) are derived, with expected
values from ``reference.radboud_dl_a1`` on the trusted side only. What no helper
fits is in ``by_hand.py``.
"""

from __future__ import annotations

from pathlib import Path

import reference.radboud_dl_a1 as ref
from graders.derive import Arg, binary
from graders.sandbox.limits import Limits
from graders.spec import Assignment

from . import by_hand
from .data import sandbox_digits

assignment = hw = Assignment(
    slug="radboud-dl-a1",
    title="Radboud NWI-IMC070 (2023) assignment 1: gradient descent and backprop in numpy",
    provided_dir=Path(__file__).with_name("provided"),
    overrides={"f": "handout:f", "grad_x_f": "handout:grad_x_f",
               "grad_y_f": "handout:grad_y_f", "Net": "handout:Net"},
    skip_calls=("fit", "train", "train_digits", "show", "savefig", "check_grad_all"),
    provided_modules=("digits",),
    replacements=sandbox_digits,  # the test half of the digits never enters a sandbox
    limits=Limits(wall_s=300, cpu_s=300),
    reference=ref,
    accepted_variants=(("relu_grad", ">= 0", "the handout leaves relu_grad at exactly 0 to the "
                        "student: 0 and 1 are both accepted"),),
    # No warm_imports: matplotlib, scipy and scikit-learn cost 1.7 s of CPU per pooled
    # sandbox, wasted on every .py that does not import them (docs/performance.md).
)

x = Arg(("N", "D"))
away_from_0 = Arg(("N", "D"), kinks=(0.0,))  # finite differences never straddle the kink
y_hat = Arg(("N", "D"), 0.02, 0.98, dist="uniform")

hw.problem("optimize_f", points=2, needs=["optimize_f"], checks=3)(by_hand.optimize_f)
hw.function("sigmoid", points=1, x=Arg(("N", "D", "K"), -30, 30, dist="uniform"))
hw.function("sigmoid_grad", points=2, x=Arg(("N", "D"), -8, 8, dist="uniform"),
            hint="The derivative is s(x)·(1 − s(x)) with s the sigmoid of x itself.")
hw.function("relu", points=1, x=x)
hw.function("relu_grad", points=2, x=away_from_0, extra=(by_hand.relu_grad_at_zero, 1))
hw.function("bce_loss", points=1, y=binary(("N", "D")), y_hat=y_hat,
            hint="The handout asks for the elementwise loss, without a mean or sum.")
hw.function("bce_loss_grad", points=2, y=binary(("N", "D")), y_hat=y_hat,
            hint="Differentiate with respect to y_hat, entry by entry.")
hw.module("Linear", points=5, init=("D", "M"), forward={"x": x},
          params={"W": ("D", "M"), "b": ("M",)}, grads={"W": "dW", "b": "db"},
          backward="x, dy", step="step", extra=(by_hand.linear_init, 1), hints={
              "dx": "dx = dy · Wᵀ has the shape of x.", "dW": "dW = xᵀ · dy has the shape of W.",
              "db": "The handout sums the bias gradient over the batch.",
              "W": "step should do W -= step_size * dW.",
              "b": "step should do b -= step_size * db."})
chain_rule = {"dx": "backward returns dy times the derivative at x."}
hw.module("Sigmoid", points=1, forward={"x": x}, backward="x, dy", hints=chain_rule)
hw.module("ReLU", points=1, forward={"x": away_from_0}, backward="x, dy", hints=chain_rule)
hw.problem("train_digits", points=3, training=True, timeout_s=240, checks=1,
           needs=["Linear", "ReLU", "Sigmoid", "bce_loss", "bce_loss_grad"]
           )(by_hand.train_digits)
